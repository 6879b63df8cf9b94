import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeSlackCall {
  /** Web API method name, or `response_url` for posts to a response URL. */
  method: string;
  body: Record<string, unknown>;
  token?: string;
  at: number;
  /** True when the fake answered 429. */
  limited?: boolean;
  status: number;
  response: Record<string, unknown>;
  /** The `<id>` part of `/response/<id>`. */
  responseId?: string;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown;
  thread_ts?: string;
  /** How many chat.update calls replaced this message. */
  updates: number;
}

export interface FakeSlackOptions {
  /** URL returned by apps.connections.open (can also be set later via `fake.socketUrl`). */
  socketUrl?: string;
}

type Predicate = (call: FakeSlackCall) => boolean;
type Handler = (body: Record<string, unknown>) => Record<string, unknown>;

interface Waiter {
  predicate: Predicate;
  resolve: (call: FakeSlackCall) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

// The WebClient form-encodes nested arguments as JSON strings; tests want them as objects again.
const JSON_FIELDS = ["blocks", "attachments", "view", "metadata"];
const TS_BASE_SEC = 1767225600;

/** Local stand-in for slack.com's Web API; emits `call` with each recorded FakeSlackCall. */
export class FakeSlack extends EventEmitter {
  readonly calls: FakeSlackCall[] = [];
  socketUrl: string | undefined;

  private readonly server: Server;
  private readonly messages = new Map<string, StoredMessage>();
  private readonly usergroups = new Map<string, string[]>();
  private readonly channels = new Map<string, string>();
  private readonly limits = new Map<string, { times: number; retryAfterSec: number }>();
  private readonly failures = new Map<string, { times: number; error: string }>();
  private readonly waiters = new Set<Waiter>();
  private readonly handlers: Record<string, Handler>;
  private tsSeq = 0;
  private viewSeq = 0;

  constructor(opts: FakeSlackOptions = {}) {
    super();
    this.socketUrl = opts.socketUrl;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) reply(res, 500, { ok: false, error: `fake_slack_internal: ${String(err)}` });
      });
    });
    this.handlers = {
      "auth.test": () => ({
        url: "https://acme-ml.slack.com/",
        team: "acme-ml",
        user: "ml-rollback",
        team_id: "T0FAKE001",
        user_id: "U0FAKEBOT",
        bot_id: "B0FAKEBOT",
        is_enterprise_install: false,
      }),
      "chat.postMessage": (b) => this.postMessage(b),
      "chat.update": (b) => this.update(b),
      "chat.postEphemeral": () => ({ message_ts: this.nextTs() }),
      "views.open": (b) => ({ view: this.viewResult(b, undefined) }),
      "views.update": (b) => ({ view: this.viewResult(b, b.view_id) }),
      "usergroups.users.list": (b) => {
        const users = this.usergroups.get(String(b.usergroup));
        return users ? { users: [...users] } : { ok: false, error: "no_such_subteam" };
      },
      "conversations.info": (b) => {
        const id = String(b.channel);
        return { channel: { id, name: this.channels.get(id) ?? "ml-analyze", is_channel: true } };
      },
      "apps.connections.open": () =>
        this.socketUrl ? { url: this.socketUrl } : { ok: false, error: "fake_socket_url_not_set" },
    };
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  /** `http://127.0.0.1:PORT` (valid once listening). */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** `http://127.0.0.1:PORT/api/` — pass as the WebClient's `slackApiUrl`. */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  /** A response_url pointing at this fake; posts to it are recorded as method `response_url`. */
  responseUrl(id = "r1"): string {
    return `${this.baseUrl}/response/${id}`;
  }

  callsOf(method: string): FakeSlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Forget recorded calls, messages and pending rate limits/failures (configured users/channels stay). */
  reset(): void {
    this.calls.length = 0;
    this.messages.clear();
    this.limits.clear();
    this.failures.clear();
  }

  setUsergroup(id: string, users: string[]): void {
    this.usergroups.set(id, [...users]);
  }

  setChannel(id: string, name: string): void {
    this.channels.set(id, name);
  }

  /** The next `times` calls of `method` get HTTP 429 with `Retry-After: retryAfterSec`. */
  rateLimit(method: string, times: number, retryAfterSec: number): void {
    this.limits.set(method, { times, retryAfterSec });
  }

  /** The next `times` calls of `method` answer `{ok:false, error}` (e.g. `msg_blocks_too_long`). */
  fail(method: string, error: string, times = 1): void {
    this.failures.set(method, { times, error });
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.messages.get(`${channel}:${ts}`);
  }

  /** Replies in a thread, oldest first (the parent itself excluded). */
  threadReplies(channel: string, threadTs: string): StoredMessage[] {
    return [...this.messages.values()]
      .filter((m) => m.channel === channel && m.thread_ts === threadTs && m.ts !== threadTs)
      .sort((a, b) => Number(a.ts) - Number(b.ts));
  }

  /** Resolves with the first recorded or future call matching; a string matches the method name. */
  waitFor(predicate: Predicate | string, timeoutMs = 10_000): Promise<FakeSlackCall> {
    const match: Predicate = typeof predicate === "string" ? (c) => c.method === predicate : predicate;
    const existing = this.calls.find(match);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate: match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const seen = this.calls.map((c) => (c.limited ? `${c.method}(429)` : c.method));
          reject(
            new Error(
              `fakeSlack.waitFor timed out after ${timeoutMs}ms waiting for ${describePredicate(predicate)}; ` +
                `recorded calls: [${seen.join(", ") || "none"}]`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error("fakeSlack closed while waitFor was pending"));
    }
    this.waiters.clear();
    // fetch keeps idle keep-alive sockets open, which would hold server.close() forever.
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.baseUrl);
    const body = { ...Object.fromEntries(url.searchParams), ...parseBody(req, await readBody(req)) };
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : typeof body.token === "string" ? body.token : undefined;

    let method: string;
    let responseId: string | undefined;
    if (url.pathname.startsWith("/api/")) method = url.pathname.slice(5);
    else if (url.pathname.startsWith("/response/")) {
      method = "response_url";
      responseId = url.pathname.slice(10);
    } else {
      res.writeHead(404).end();
      return;
    }

    const limit = this.limits.get(method);
    if (limit && limit.times > 0) {
      limit.times -= 1;
      const response = { ok: false, error: "ratelimited" };
      this.record({ method, body, token, responseId, status: 429, response, limited: true });
      reply(res, 429, response, { "retry-after": String(limit.retryAfterSec) });
      return;
    }

    const response = this.respond(method, body);
    this.record({ method, body, token, responseId, status: 200, response });
    reply(res, 200, response);
  }

  private respond(method: string, body: Record<string, unknown>): Record<string, unknown> {
    const failure = this.failures.get(method);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      return { ok: false, error: failure.error };
    }
    if (method === "response_url") return { ok: true };
    const handler = this.handlers[method];
    if (!handler) return { ok: false, error: "unknown_method" };
    return { ok: true, ...handler(body) };
  }

  private record(fields: Omit<FakeSlackCall, "at">): void {
    const call: FakeSlackCall = { ...fields, at: Date.now() };
    this.calls.push(call);
    for (const w of this.waiters) {
      if (w.predicate(call)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(call);
      }
    }
    this.emit("call", call);
  }

  /** Unique, increasing ts values shaped like Slack's (`1767225600.000100`, `.000200`, …). */
  private nextTs(): string {
    this.tsSeq += 1;
    const micros = this.tsSeq * 100;
    return `${TS_BASE_SEC + Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`;
  }

  private postMessage(b: Record<string, unknown>): Record<string, unknown> {
    if (typeof b.channel !== "string" || b.channel === "") return { ok: false, error: "channel_not_found" };
    const ts = this.nextTs();
    const thread_ts = typeof b.thread_ts === "string" ? b.thread_ts : undefined;
    const stored: StoredMessage = { channel: b.channel, ts, text: str(b.text), blocks: b.blocks, thread_ts, updates: 0 };
    this.messages.set(`${b.channel}:${ts}`, stored);
    return { channel: b.channel, ts, message: this.wireMessage(stored) };
  }

  private update(b: Record<string, unknown>): Record<string, unknown> {
    const channel = String(b.channel);
    const ts = String(b.ts);
    const stored = this.messages.get(`${channel}:${ts}`);
    if (!stored) return { ok: false, error: "message_not_found" };
    if (b.text !== undefined) stored.text = str(b.text);
    if (b.blocks !== undefined) stored.blocks = b.blocks;
    stored.updates += 1;
    return { channel, ts, text: stored.text, message: this.wireMessage(stored) };
  }

  private wireMessage(m: StoredMessage): Record<string, unknown> {
    return {
      type: "message",
      subtype: "bot_message",
      text: m.text ?? "",
      ts: m.ts,
      user: "U0FAKEBOT",
      bot_id: "B0FAKEBOT",
      blocks: m.blocks ?? [],
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    };
  }

  private viewResult(b: Record<string, unknown>, viewId: unknown): Record<string, unknown> {
    const view = typeof b.view === "object" && b.view !== null ? b.view : {};
    this.viewSeq += 1;
    const id = typeof viewId === "string" ? viewId : `V0FAKE${String(this.viewSeq).padStart(4, "0")}`;
    return { ...view, id, team_id: "T0FAKE001", app_id: "A0FAKEAPP", bot_id: "B0FAKEBOT" };
  }
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const fake = new FakeSlack(opts);
  await fake.listen();
  return fake;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseBody(req: IncomingMessage, raw: string): Record<string, unknown> {
  if (raw === "") return {};
  if ((req.headers["content-type"] ?? "").includes("json")) return JSON.parse(raw) as Record<string, unknown>;
  const body: Record<string, unknown> = Object.fromEntries(new URLSearchParams(raw));
  for (const key of JSON_FIELDS) {
    const value = body[key];
    if (typeof value === "string" && /^\s*[[{]/.test(value)) {
      try {
        body[key] = JSON.parse(value);
      } catch {
        // Leave malformed JSON as sent so the test can see exactly what the bot produced.
      }
    }
  }
  return body;
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

function str(v: unknown): string | undefined {
  return v === undefined ? undefined : String(v);
}

function describePredicate(predicate: Predicate | string): string {
  return typeof predicate === "string" ? `method ${predicate}` : `predicate ${String(predicate).slice(0, 200)}`;
}
