import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";

export type EnvelopeType = "slash_commands" | "interactive" | "events_api";

export interface Envelope {
  envelope_id: string;
  type: string;
  accepts_response_payload?: boolean;
  retry_attempt?: number;
  retry_reason?: string;
  payload: unknown;
}

/** What the client sends back: `{envelope_id, payload?}`. */
export interface Ack {
  envelope_id: string;
  payload?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Builds an envelope with a fresh envelope_id. `accepts_response_payload` follows what Slack
 * commonly sends: true for slash commands and view submissions, false otherwise.
 */
export function envelope(type: EnvelopeType, payload: unknown, extra: Partial<Envelope> = {}): Envelope {
  const payloadType = (payload as { type?: unknown } | null)?.type;
  const accepts = type === "slash_commands" || payloadType === "view_submission";
  return { envelope_id: randomUUID(), type, accepts_response_payload: accepts, payload, ...extra };
}

interface AckWaiter {
  envelopeId: string;
  resolve: (ack: Ack) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class FakeSocket {
  /** Every JSON frame received from clients, in order. */
  readonly frames: unknown[] = [];
  readonly acks: Ack[] = [];
  private readonly wss: WebSocketServer;
  private readonly clients: WebSocket[] = [];
  private readonly ackWaiters = new Set<AckWaiter>();
  private connectionWaiters: Array<() => void> = [];
  private connectionCount = 0;

  constructor(wss: WebSocketServer) {
    this.wss = wss;
    wss.on("connection", (ws) => this.onConnection(ws));
  }

  /** `ws://127.0.0.1:PORT/` — return it from apps.connections.open. */
  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/`;
  }

  /** Number of connections accepted so far (reconnects count). */
  get connections(): number {
    return this.connectionCount;
  }

  /** Resolves once at least `count` connections have been accepted (and sent `hello`). */
  waitForConnection(count = 1, timeoutMs = 10_000): Promise<void> {
    if (this.connectionCount >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.connectionWaiters = this.connectionWaiters.filter((w) => w !== check);
        reject(new Error(`fakeSocketMode: no connection #${count} within ${timeoutMs}ms (have ${this.connectionCount})`));
      }, timeoutMs);
      const check = (): void => {
        if (this.connectionCount < count) return;
        clearTimeout(timer);
        this.connectionWaiters = this.connectionWaiters.filter((w) => w !== check);
        resolve();
      };
      this.connectionWaiters.push(check);
    });
  }

  /** Sends an envelope to the newest open connection (Slack delivers each envelope to one socket). */
  send(env: Envelope): string {
    this.current().send(JSON.stringify(env));
    return env.envelope_id;
  }

  /** Sends Slack's `disconnect` frame, as before a connection refresh. */
  disconnect(reason = "refresh_requested"): void {
    this.current().send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "applink-fake-1" } }));
  }

  waitForAck(envelopeId: string, timeoutMs = 10_000): Promise<Ack> {
    const existing = this.acks.find((a) => a.envelope_id === envelopeId);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const waiter: AckWaiter = {
        envelopeId,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.ackWaiters.delete(waiter);
          const seen = this.acks.map((a) => a.envelope_id).join(", ") || "none";
          reject(new Error(`fakeSocketMode: no ack for ${envelopeId} within ${timeoutMs}ms; acks seen: [${seen}]`));
        }, timeoutMs),
      };
      this.ackWaiters.add(waiter);
    });
  }

  /** Stop the client first (e.g. `app.stop()`): a client that sees the server close will reconnect. */
  async close(): Promise<void> {
    for (const w of this.ackWaiters) {
      clearTimeout(w.timer);
      w.reject(new Error("fakeSocketMode closed while waitForAck was pending"));
    }
    this.ackWaiters.clear();
    // WebSocketServer.close() leaves accepted sockets open. Closing them with a handshake rather
    // than terminate() lets a client that is itself shutting down (Bolt's stop() does not wait
    // for the socket) finish cleanly instead of logging a socket error.
    await Promise.all([...this.clients].map((ws) => closeGracefully(ws)));
    await new Promise<void>((resolve, reject) => this.wss.close((e) => (e ? reject(e) : resolve())));
  }

  private current(): WebSocket {
    const open = this.clients.filter((c) => c.readyState === WebSocket.OPEN);
    const ws = open[open.length - 1];
    if (!ws) throw new Error("fakeSocketMode: no open client connection (await waitForConnection() first)");
    return ws;
  }

  private onConnection(ws: WebSocket): void {
    this.clients.push(ws);
    this.connectionCount += 1;
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        this.frames.push(data.toString());
        return;
      }
      this.frames.push(frame);
      if (isAck(frame)) this.onAck(frame);
    });
    ws.on("close", () => {
      const i = this.clients.indexOf(ws);
      if (i >= 0) this.clients.splice(i, 1);
    });
    const open = this.clients.filter((c) => c.readyState === WebSocket.OPEN).length;
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: open,
        debug_info: { host: "applink-fake-1", build_number: 42, approximate_connection_time: 18060 },
        connection_info: { app_id: "A0FAKEAPP" },
      }),
    );
    for (const w of [...this.connectionWaiters]) w();
  }

  private onAck(ack: Ack): void {
    this.acks.push(ack);
    for (const w of this.ackWaiters) {
      if (w.envelopeId !== ack.envelope_id) continue;
      clearTimeout(w.timer);
      this.ackWaiters.delete(w);
      w.resolve(ack);
    }
  }
}

function closeGracefully(ws: WebSocket, timeoutMs = 2000): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => ws.terminate(), timeoutMs);
    ws.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  });
}

function isAck(frame: unknown): frame is Ack {
  return typeof frame === "object" && frame !== null && typeof (frame as Ack).envelope_id === "string";
}

export async function startFakeSocketMode(): Promise<FakeSocket> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  return new FakeSocket(wss);
}
