/**
 * Latency of the main job, measured against baselines taken on the same server in the same run:
 *   (a) the ack of a signed slash command (`help`, answered inside the ack; `verify --dry-run`, acked
 *       empty and planned afterwards) vs GET /health;
 *   (b) the Approve click's HTTP response → the first step's started_at (step_runs) vs one round trip
 *       to the state database.
 * The bot runs in this process against real Postgres and Redis and the fake Slack (test/support).
 */
import { ACTIONS } from '../src/bot/render.js';
import { startTestBot, type TestBot } from '../test/support/bot.js';
import { APPROVER, clickAs, commandAs, REQUESTER, sql } from '../test/support/e2e.js';

const N = Number(process.env.BENCH_N ?? 100);
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const WARMUP = 10;

interface Row {
  name: string;
  samples: number[];
  baseline?: string;
}

function stats(xs: number[]): { median: number; p95: number; worst: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { median: at(0.5), p95: at(0.95), worst: s[s.length - 1]! };
}

async function timeGet(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(url);
  await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} → ${res.status}`);
  return performance.now() - t;
}

/**
 * Ack times of `text`, sent one after another. With `settle`, the work a command does after its ack
 * (plan, store, post) is awaited, unmeasured, before the next one, so each ack is timed alone.
 */
async function ackTimes(bot: TestBot, text: string, n: number, settle = false): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await commandAs(bot, text);
    if (res.status !== 200) throw new Error(`${text} → HTTP ${res.status}: ${res.body}`);
    out.push(res.ms);
    if (settle) await res.reply();
  }
  return out;
}

async function dbRoundTrip(bot: TestBot): Promise<number> {
  const t = performance.now();
  await bot.runtime.store.pool.query('SELECT started_at FROM ' + `${bot.config.stateSchema}.step_runs` + ' ORDER BY id DESC LIMIT 1');
  return performance.now() - t;
}

/** One approve-and-run of `redis clear-jobs`: ms from the click's HTTP response to step 1's start. */
interface Round {
  clickMs: number;
  toStartMs: number;
  /** The split of toStartMs (audit times are transaction starts): click answered → approve → run started → step 1. */
  toApprovedMs: number;
  toRunMs: number;
  /** The split of toRunMs, from the BullMQ job's own timestamps. */
  toEnqueuedMs: number;
  toPickedMs: number;
  toRunStartMs: number;
  toStepMs: number;
}

async function approveToFirstStep(bot: TestBot): Promise<Round> {
  const cmd = await commandAs(bot, 'redis clear-jobs', { user_id: REQUESTER });
  const reply = (await cmd.reply()).text;
  const id = /^(R-\d+) planned/.exec(reply)?.[1];
  if (!id) throw new Error(`unexpected reply: ${reply}`);
  const click = await clickAs(bot, ACTIONS.approve, id, APPROVER);
  const answeredAt = Date.now();
  if (click.status !== 200) throw new Error(`approve → HTTP ${click.status}`);
  const done = await bot.waitForState(id, ['succeeded', 'failed', 'interrupted']);
  if (done.state !== 'succeeded') throw new Error(`${id} ended ${done.state}`);
  const [first] = await sql<{ started_at: Date }>(bot, 'SELECT started_at FROM {{schema}}.step_runs WHERE request_id = $1 AND step_index = 0 ORDER BY id LIMIT 1', [id]);
  const at = async (action: string) =>
    (await sql<{ at: Date }>(bot, 'SELECT at FROM {{schema}}.audit WHERE request_id = $1 AND action = $2 ORDER BY id LIMIT 1', [id, action]))[0]!.at.getTime();
  const approved = await at('approved');
  const run = await at('run-started');
  const step = first!.started_at.getTime();
  const job = await bot.runtime.queue.queue.getJob(id);
  const enqueued = job?.timestamp ?? NaN;
  const picked = job?.processedOn ?? NaN;
  return {
    clickMs: click.ms,
    toStartMs: step - answeredAt,
    toApprovedMs: approved - answeredAt,
    toRunMs: run - approved,
    toEnqueuedMs: enqueued - approved,
    toPickedMs: picked - enqueued,
    toRunStartMs: run - picked,
    toStepMs: step - run,
  };
}

function print(rows: Row[]): void {
  const base = new Map(rows.map((r) => [r.name, stats(r.samples).median]));
  const header = ['measurement', 'n', 'median ms', 'p95 ms', 'worst ms', 'median ÷ baseline'];
  const body = rows.map((r) => {
    const s = stats(r.samples);
    const b = r.baseline ? base.get(r.baseline) : undefined;
    return [r.name, String(r.samples.length), s.median.toFixed(2), s.p95.toFixed(2), s.worst.toFixed(2), b ? `${(s.median / b).toFixed(1)}× ${r.baseline}` : '(baseline)'];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n`);
}

async function main(): Promise<void> {
  const bot = await startTestBot();
  try {
    // Warm up JIT, pools and Bolt before measuring anything.
    for (let i = 0; i < WARMUP; i++) {
      await timeGet(`${bot.url}/health`);
      await bot.command('help');
      await dbRoundTrip(bot);
    }
    const health: number[] = [];
    for (let i = 0; i < N; i++) health.push(await timeGet(`${bot.url}/health`));
    const help = await ackTimes(bot, 'help', N);
    const dryRun = await ackTimes(bot, 'verify --dry-run', N, true);
    const dryRunBackToBack = await ackTimes(bot, 'verify --dry-run', N);

    const rounds: Round[] = [];
    for (let i = 0; i < RUNS; i++) rounds.push(await approveToFirstStep(bot));
    const col = (k: keyof Round) => rounds.map((r) => r[k]);
    const db: number[] = [];
    for (let i = 0; i < N; i++) db.push(await dbRoundTrip(bot));

    process.stdout.write(`ml-rollback bench: ${new Date().toISOString()}, node ${process.version}, ${N} requests per ack series, ${RUNS} approve-and-run rounds\n\n`);
    print([
      { name: 'GET /health', samples: health },
      { name: 'ack: /ml-rollback help', samples: help, baseline: 'GET /health' },
      { name: 'ack: /ml-rollback verify --dry-run', samples: dryRun, baseline: 'GET /health' },
      { name: 'ack: verify --dry-run, back to back', samples: dryRunBackToBack, baseline: 'GET /health' },
      { name: 'ack: Approve click', samples: col('clickMs'), baseline: 'GET /health' },
      { name: 'state DB round trip', samples: db },
      { name: 'Approve response → step 1 started_at', samples: col('toStartMs'), baseline: 'state DB round trip' },
      { name: '  response → approve transaction began', samples: col('toApprovedMs'), baseline: 'state DB round trip' },
      { name: '  approve transaction → run-started', samples: col('toRunMs'), baseline: 'state DB round trip' },
      { name: '    approve transaction → job added', samples: col('toEnqueuedMs'), baseline: 'state DB round trip' },
      { name: '    job added → worker took it', samples: col('toPickedMs'), baseline: 'state DB round trip' },
      { name: '    worker took it → run-started', samples: col('toRunStartMs'), baseline: 'state DB round trip' },
      { name: '  run-started → step 1 started_at', samples: col('toStepMs'), baseline: 'state DB round trip' },
    ]);
  } finally {
    await bot.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
