import { userInfo } from 'node:os';
import { runConsole } from './bot/console.js';
import { ConsoleIncidentNotifier } from './bot/consoleIncidents.js';
import { ConsoleNotifier } from './bot/consoleNotifier.js';
import { incidentRoutes, slackIncidents } from './bot/incidentWiring.js';
import { startHttp } from './bot/http.js';
import { createSlackEdge } from './bot/slackApp.js';
import { createWebClient } from './bot/slackClient.js';
import { SlackNotifier } from './bot/slackNotifier.js';
import { loadConfig, type Config } from './config/index.js';
import { AppError, coerceError } from './errors.js';
import { incidentThreadLookup } from './incidents/thread.js';
import { createLogger, type Logger } from './log.js';
import { parseCommand } from './rollback/command.js';
import { planProcedure } from './rollback/procedures/index.js';
import { createRuntime, createTargetDeps, type Runtime } from './runtime.js';
import { parseAuditArgs, writeAuditJsonLines } from './store/auditExport.js';
import { Store } from './store/store.js';

const ROLES = ['bot', 'worker', 'all', 'console', 'plan', 'audit'] as const;
type Role = (typeof ROLES)[number];

const USAGE = `usage: ml-rollback [bot | worker | all | console | plan COMMAND…]
  bot      Slack edge and HTTP server (/slack/events, /health, /ready, /metrics, /alerts)
  worker   runs approved procedures (run more for more capacity; one rollback at a time)
  all      bot + worker (default when Slack credentials are set)
  console  the same commands in this terminal, no Slack (default without credentials)
  plan     print the plan of one command and exit (break-glass when Slack is down)
  audit    print the audit trail as JSON lines: audit [--since ISO_TIMESTAMP] [--request R-N]`;

/** The whole program: roles by command (DESIGN §5). `env` is read once, here, through loadConfig. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let cfg: Config;
  try {
    cfg = loadConfig(env);
  } catch (err) {
    process.stderr.write(`ml-rollback: ${coerceError(err).message}\n`);
    return 2;
  }
  const role: Role = first ? (ROLES as readonly string[]).includes(first) ? (first as Role) : invalidRole(first) : cfg.slack.mode === 'none' ? 'console' : 'all';
  // In a terminal the conversation is on stdout; JSON log lines would interleave with it.
  const terminal = role === 'console' || role === 'plan' || role === 'audit';
  const log = terminal ? createLogger({ level: env.LOG_LEVEL ?? 'error', destination: process.stderr }) : createLogger({ level: cfg.logLevel });
  if (role === 'plan') return planOnly(cfg, log, rest.join(' '));
  if (role === 'audit') return auditOnly(cfg, log, rest);
  if (role === 'console') return consoleMode(cfg, log, env);
  if (cfg.slack.mode === 'none') {
    process.stderr.write(
      `ml-rollback: the ${role} role talks to Slack${role === 'worker' ? ' (it posts progress and outcomes in the request threads)' : ''}: ` +
        'set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode); without Slack, run `console`\n',
    );
    return 2;
  }
  return slackMode(cfg, log, role);
}

function invalidRole(word: string): never {
  throw new AppError('bad_input', `unknown role ${word}\n${USAGE}`);
}

async function slackMode(cfg: Config, log: Logger, role: Role): Promise<number> {
  const client = createWebClient(cfg.slack.botToken!, cfg.slack.apiUrl);
  const rt = await createRuntime(cfg, log, {
    notifier: (store) => new SlackNotifier(client, store, log, cfg.progressIntervalMs, incidentThreadLookup(store)),
    runWorker: role === 'worker' || role === 'all',
    incidents: slackIncidents(client, log, role === 'worker' || role === 'all'),
    groups: async (id) => {
      const res = await client.usergroups.users.list({ usergroup: id });
      return res.users ?? [];
    },
  });
  let closeHttp: (() => Promise<void>) | undefined;
  let edge: ReturnType<typeof createSlackEdge> | undefined;
  if (role === 'bot' || role === 'all') {
    edge = createSlackEdge(cfg.slack, { service: rt.service, log, incidents: rt.incidents }, log);
    const http = await startHttp({
      port: cfg.port,
      log,
      metrics: rt.metrics,
      ...(edge.requestListener ? { slack: edge.requestListener } : {}),
      ready: () => rt.ready(),
      routes: incidentRoutes(rt, cfg.alertWebhookToken, log),
    });
    closeHttp = http.close;
    await edge.start();
  } else {
    const http = await startHttp({ port: cfg.port, log, metrics: rt.metrics, ready: () => rt.ready() });
    closeHttp = http.close;
  }
  log.info({ role, slackMode: cfg.slack.mode }, 'ml-rollback started');
  await waitForSignal(log);
  await edge?.stop().catch(() => undefined);
  await closeHttp?.();
  await rt.close();
  return 0;
}

async function consoleMode(cfg: Config, log: Logger, env: NodeJS.ProcessEnv): Promise<number> {
  const notifier = new ConsoleNotifier(process.stdout);
  let rt: Runtime;
  try {
    rt = await createRuntime(cfg, log, { notifier: () => notifier, runWorker: true, cancelPollMs: 300, incidents: { notifier: () => new ConsoleIncidentNotifier(process.stdout) } });
  } catch (err) {
    const message = coerceError(err).message;
    // A message that names its setting says enough; otherwise point at the usual cause.
    const hint = /^[A-Z_]+: /.test(message) ? '' : '\nIs PostgreSQL running at DATABASE_URL/STATE_DATABASE_URL? (`npm run sandbox` sets one up)';
    process.stderr.write(`ml-rollback: cannot start: ${message}${hint}\n`);
    return 1;
  }
  const user = env.ML_ROLLBACK_USER ?? userInfo().username;
  try {
    await runConsole({ service: rt.service, store: rt.store, notifier, input: process.stdin, output: process.stdout, user });
  } finally {
    await rt.close();
  }
  return 0;
}

async function planOnly(cfg: Config, log: Logger, text: string): Promise<number> {
  let cmd;
  try {
    cmd = parseCommand(text);
  } catch (err) {
    process.stderr.write(`${coerceError(err).message}\n`);
    return 2;
  }
  if (cmd.kind !== 'procedure') {
    process.stderr.write('plan takes a procedure, e.g. `plan data clear-embeddings --supplier UUID`\n');
    return 2;
  }
  const deps = createTargetDeps(cfg, log);
  const { db, redis } = deps;
  try {
    const plan = await planProcedure(deps, cmd.procedure, cmd.args);
    const notifier = new ConsoleNotifier(process.stdout);
    await notifier.planned({
      id: 'R-?', procedure: cmd.procedure, command: text, plan, planHash: '', approvedHash: null, risk: plan.risk, state: 'dry_run', requester: userInfo().username,
      channelId: 'console', channelName: null, messageTs: null, threadTs: null, progressTs: null, incidentId: null, emergencyReason: null, approvalsNeeded: 1,
      runNo: 0, resumeFrom: 0, cancelRequested: false, error: null, createdAt: new Date(), updatedAt: new Date(), expiresAt: null, startedAt: null, finishedAt: null,
    });
    return 0;
  } catch (err) {
    process.stderr.write(`${coerceError(err).message}\n`);
    return 1;
  } finally {
    await db.end();
    redis.disconnect();
  }
}

async function auditOnly(cfg: Config, log: Logger, args: string[]): Promise<number> {
  let filter;
  try {
    filter = parseAuditArgs(args);
  } catch (err) {
    process.stderr.write(`${coerceError(err).message}\n`);
    return 2;
  }
  const store = await Store.open(cfg.stateDatabaseUrl, cfg.stateSchema, log);
  try {
    await writeAuditJsonLines(store, filter, process.stdout);
    return 0;
  } finally {
    await store.close();
  }
}

function waitForSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      log.info({ sig }, 'signal received');
      resolve();
    };
    process.once('SIGTERM', () => on('SIGTERM'));
    process.once('SIGINT', () => on('SIGINT'));
  });
}

