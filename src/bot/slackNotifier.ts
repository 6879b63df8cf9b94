import type { WebClient } from '@slack/web-api';
import type { Logger } from '../log.js';
import type { DecisionEvent, MessageRef, Notifier } from '../requests/notifier.js';
import type { RequestRow, StepRunRow, Store } from '../store/store.js';
import { call, deliver, RateLimited } from './slackClient.js';
import { decisionText, outcomeBlocks, planBlocks, planText, progressBlocks, progressText } from './render.js';

interface Pending {
  req: RequestRow;
  steps: Map<number, StepRunRow>;
  line?: string | undefined;
  timer?: NodeJS.Timeout;
  lastSent: number;
  notBefore: number;
  inflight: Promise<void>;
}

/**
 * Slack side of the request lifecycle. The plan message is the request's home; a single progress
 * message in its thread is edited as steps go, at most once per interval (chat.update is Tier 3,
 * shared by every running request), waiting out 429s; the final state is always delivered.
 */
export class SlackNotifier implements Notifier {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly client: WebClient,
    private readonly store: Store,
    private readonly log: Logger,
    private readonly intervalMs = 3000,
    /** Where an incident is announced: a request made during it is posted in that thread. */
    private readonly incidentThread?: (incidentId: string) => Promise<MessageRef | null>,
  ) {}

  async planned(req: RequestRow): Promise<MessageRef | undefined> {
    const incident = req.incidentId && this.incidentThread ? await this.incidentThread(req.incidentId).catch(() => null) : null;
    const channel = incident?.channelId ?? req.channelId;
    const res = await deliver(
      () => this.client.chat.postMessage({ channel, text: planText(req), blocks: planBlocks(req), unfurl_links: false, ...(incident ? { thread_ts: incident.ts } : {}) }),
      this.log,
      'post plan',
      'chat.postMessage',
    );
    if (!res?.ts) return undefined;
    // In an incident the request's thread is the incident's: replies to a reply are not threads.
    const ref = { channelId: res.channel ?? channel, ts: res.ts, ...(incident ? { threadTs: incident.ts } : {}) };
    if (req.state === 'approved') await this.thread({ ...req, messageTs: ref.ts, threadTs: ref.threadTs ?? ref.ts, channelId: ref.channelId }, '🟢 read-only: no approval needed; running now');
    return ref;
  }

  async decided(req: RequestRow, event: DecisionEvent): Promise<void> {
    await this.refreshPlan(req);
    await this.thread(req, decisionText(req, event), event.kind === 'approved' && Boolean(event.emergency));
  }

  async progress(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>, line?: string): Promise<void> {
    let p = this.pending.get(req.id);
    if (!p) {
      p = { req, steps: new Map(steps), lastSent: 0, notBefore: 0, inflight: Promise.resolve() };
      this.pending.set(req.id, p);
    }
    p.req = req;
    for (const [k, v] of steps) p.steps.set(k, v);
    p.line = line ?? (steps.size ? undefined : p.line);
    this.schedule(p);
  }

  async finished(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>): Promise<void> {
    const p = this.pending.get(req.id);
    if (p?.timer) clearTimeout(p.timer);
    await p?.inflight;
    this.pending.delete(req.id);
    const fresh = (await this.store.getRequest(req.id)) ?? req;
    await this.sendProgress(fresh, steps, undefined, true);
    await this.refreshPlan(fresh);
    const blocks = outcomeBlocks(fresh, steps);
    if (fresh.threadTs) {
      await deliver(
        () => this.client.chat.postMessage({ channel: fresh.channelId, thread_ts: fresh.threadTs!, text: progressText(fresh, steps).split('\n')[0]!, blocks, reply_broadcast: fresh.state !== 'succeeded' }),
        this.log,
        'post outcome',
        'chat.postMessage',
      );
    }
  }

  /** Flush everything pending (shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending.values()].map((p) => p.inflight));
  }

  private schedule(p: Pending): void {
    if (p.timer) return;
    const wait = Math.max(0, p.lastSent + this.intervalMs - Date.now(), p.notBefore - Date.now());
    p.timer = setTimeout(() => {
      p.timer = undefined;
      p.inflight = p.inflight.then(async () => {
        try {
          await this.sendProgress(p.req, p.steps, p.line, false);
          p.lastSent = Date.now();
        } catch (err) {
          if (err instanceof RateLimited) {
            p.notBefore = Date.now() + err.retryAfterMs;
            this.schedule(p);
          } else this.log.warn({ requestId: p.req.id, err: (err as Error).message }, 'progress update failed');
        }
      });
    }, wait);
    p.timer.unref();
  }

  private async sendProgress(req: RequestRow, steps: ReadonlyMap<number, StepRunRow>, line: string | undefined, final: boolean): Promise<void> {
    if (!req.threadTs) return;
    const text = progressText(req, steps, line).split('\n')[0]!;
    const blocks = progressBlocks(req, steps, line);
    const progressTs = req.progressTs ?? (await this.store.getRequest(req.id))?.progressTs ?? null;
    if (!progressTs) {
      const fn = () => this.client.chat.postMessage({ channel: req.channelId, thread_ts: req.threadTs!, text, blocks });
      const res = final ? await deliver(fn, this.log, 'post progress', 'chat.postMessage') : await call(fn, 'chat.postMessage');
      if (res?.ts) {
        await this.store.setMessage(req.id, { progressTs: res.ts });
        req.progressTs = res.ts;
      }
      return;
    }
    const fn = () => this.client.chat.update({ channel: req.channelId, ts: progressTs, text, blocks });
    if (final) await deliver(fn, this.log, 'final progress', 'chat.update');
    else await call(fn, 'chat.update');
  }

  private async refreshPlan(req: RequestRow): Promise<void> {
    const ts = req.messageTs ?? (await this.store.getRequest(req.id))?.messageTs;
    if (!ts) return;
    await deliver(() => this.client.chat.update({ channel: req.channelId, ts, text: planText(req), blocks: planBlocks(req) }), this.log, 'update plan', 'chat.update');
  }

  private async thread(req: RequestRow, text: string, broadcast = false): Promise<void> {
    const ts = req.threadTs ?? (await this.store.getRequest(req.id))?.threadTs;
    if (!ts) return;
    await deliver(() => this.client.chat.postMessage({ channel: req.channelId, thread_ts: ts, text, reply_broadcast: broadcast }), this.log, 'thread note', 'chat.postMessage');
  }
}
