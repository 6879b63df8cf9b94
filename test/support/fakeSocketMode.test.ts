import { App, LogLevel, SocketModeReceiver } from "@slack/bolt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeSlack, type FakeSlack } from "./fakeSlack.js";
import { envelope, startFakeSocketMode, type FakeSocket } from "./fakeSocketMode.js";
import { blockActionsPayload, slashCommandFields } from "./slackSign.js";

describe("fakeSocketMode with Bolt's SocketModeReceiver", () => {
  let slack: FakeSlack;
  let sock: FakeSocket;
  let app: App;
  const seen: string[] = [];

  beforeEach(async () => {
    seen.length = 0;
    sock = await startFakeSocketMode();
    slack = await startFakeSlack({ socketUrl: sock.url });
    // SocketModeReceiver hands installerOptions.clientOptions to SocketModeClient's WebClient,
    // which is where apps.connections.open goes; the App's own client needs the URL separately.
    const receiver = new SocketModeReceiver({
      appToken: "xapp-1-test",
      logLevel: LogLevel.ERROR,
      installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
    });
    app = new App({
      receiver,
      token: "xoxb-test",
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: slack.apiUrl },
    });
    app.command("/ml-rollback", async ({ ack, command }) => {
      seen.push(`command:${command.text}`);
      await ack({ text: "ok" });
    });
    app.action("rollback_approve", async ({ ack, body }) => {
      seen.push(`action:${body.user.id}`);
      await ack();
    });
    await app.start();
    await sock.waitForConnection();
  });

  afterEach(async () => {
    await app.stop();
    await sock.close();
    await slack.close();
  });

  it("connects through apps.connections.open with the app token", () => {
    expect(slack.callsOf("apps.connections.open")[0]?.token).toBe("xapp-1-test");
    expect(sock.connections).toBe(1);
  });

  it("acks a slash command envelope with the response payload", async () => {
    const env = envelope("slash_commands", slashCommandFields({ text: "recsys-api to v2.14.3" }));
    const id = sock.send(env);
    const ack = await sock.waitForAck(id);
    expect(ack).toEqual({ envelope_id: env.envelope_id, payload: { text: "ok" } });
    expect(seen).toEqual(["command:recsys-api to v2.14.3"]);
    // Bolt verifies the bot token before dispatching; that went to the fake too.
    expect(slack.callsOf("auth.test")[0]?.token).toBe("xoxb-test");
  });

  it("acks an interactive block_actions envelope with an empty payload", async () => {
    const payload = blockActionsPayload({ userId: "U0FAKEUS2", actionId: "rollback_approve", value: "run_7f3c2a" });
    const env = envelope("interactive", payload);
    expect(env.accepts_response_payload).toBe(false);
    const ack = await sock.waitForAck(sock.send(env));
    expect(ack).toEqual({ envelope_id: env.envelope_id, payload: {} });
    expect(seen).toEqual(["action:U0FAKEUS2"]);
  });
});
