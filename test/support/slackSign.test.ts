import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  blockActionsBody,
  postSigned,
  signSlack,
  slashCommandBody,
  viewSubmissionBody,
} from "./slackSign.js";

// Test vectors from shared/formats/slack-and-alertmanager.md §1.
const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

const SLASH_BODY =
  "token=legacyVerifTok&team_id=T0FAKE001&team_domain=acme-ml&channel_id=C0FAKE0CH&channel_name=ml-ops" +
  "&user_id=U0FAKEUS1&user_name=dana&command=%2Fml-rollback&text=recsys-api+to+v2.14.3&api_app_id=A0FAKEAPP" +
  "&is_enterprise_install=false" +
  "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0FAKE001%2F1111111111%2FfakeResponseToken0001" +
  "&trigger_id=1111111111.2222222222.0fakefakefakefakefakefakefakefake";
const SLASH_SIG = "v0=86f013d208b9393072ec64da076ad5417e68e8b64b80d99d077f6834fd424dc8";

const BLOCK_ACTIONS_JSON =
  '{"type":"block_actions","user":{"id":"U0FAKEUS2","username":"lee","name":"lee","team_id":"T0FAKE001"},' +
  '"api_app_id":"A0FAKEAPP","token":"legacyVerifTok","container":{"type":"message","message_ts":"1767225601.000100",' +
  '"channel_id":"C0FAKE0CH","is_ephemeral":false},"trigger_id":"3333333333.2222222222.0fakefakefakefakefakefakefake0002",' +
  '"team":{"id":"T0FAKE001","domain":"acme-ml"},"enterprise":null,"is_enterprise_install":false,' +
  '"channel":{"id":"C0FAKE0CH","name":"ml-ops"},"message":{"type":"message","subtype":"bot_message",' +
  '"text":"Rollback request for recsys-api","ts":"1767225601.000100","bot_id":"B0FAKEBOT","blocks":[]},' +
  '"state":{"values":{}},"response_url":"https://hooks.slack.com/actions/T0FAKE001/4444444444/fakeResponseToken0002",' +
  '"actions":[{"action_id":"rollback_approve","block_id":"approval_actions","text":{"type":"plain_text",' +
  '"text":"Approve","emoji":true},"value":"run_7f3c2a","style":"primary","type":"button","action_ts":"1767225630.123456"}]}';
const BLOCK_ACTIONS_SIG = "v0=84c1f1897a1d7d342570ba3e682f7030a1848b750f5ad629685c81a432196c74";

interface DecodedPayload {
  type: string;
  user: { id: string };
  actions: Array<{ action_ts: string; value: string }>;
  view: { state: { values: unknown } };
  response_urls: unknown[];
}

function decodePayload(body: string): DecodedPayload {
  const payload = new URLSearchParams(body).get("payload");
  expect(payload).toBeTypeOf("string");
  return JSON.parse(payload ?? "") as DecodedPayload;
}

describe("signSlack", () => {
  it("matches the slash command vector", () => {
    expect(signSlack(SECRET, 1767225600, SLASH_BODY)).toBe(SLASH_SIG);
    expect(signSlack(SECRET, "1767225600", SLASH_BODY)).toBe(SLASH_SIG);
  });

  it("matches the block_actions vector", () => {
    const body = `payload=${encodeURIComponent(BLOCK_ACTIONS_JSON)}`;
    expect(body).toHaveLength(1476);
    expect(signSlack(SECRET, 1767225631, body)).toBe(BLOCK_ACTIONS_SIG);
  });

  it("changes when one byte of the body changes", () => {
    expect(signSlack(SECRET, 1767225600, SLASH_BODY.replace("v2.14.3", "v2.14.4"))).not.toBe(SLASH_SIG);
  });
});

describe("body builders", () => {
  it("slashCommandBody reproduces the documented request byte for byte", () => {
    const body = slashCommandBody({
      text: "recsys-api to v2.14.3",
      channel_name: "ml-ops",
      response_url: "https://hooks.slack.com/commands/T0FAKE001/1111111111/fakeResponseToken0001",
      trigger_id: "1111111111.2222222222.0fakefakefakefakefakefakefakefake",
    });
    expect(body).toBe(SLASH_BODY);
  });

  it("slashCommandBody has fictional defaults and omits an unset response_url", () => {
    const fields = Object.fromEntries(new URLSearchParams(slashCommandBody({ text: "" })));
    expect(fields).toMatchObject({
      team_id: "T0FAKE001",
      channel_id: "C0FAKE0CH",
      channel_name: "ml-analyze",
      command: "/ml-rollback",
      text: "",
      is_enterprise_install: "false",
    });
    expect(fields).not.toHaveProperty("response_url");
    expect(fields.trigger_id).not.toBe(
      new URLSearchParams(slashCommandBody({ text: "" })).get("trigger_id"),
    );
  });

  it("blockActionsBody reproduces the documented block_actions vector", () => {
    const body = blockActionsBody({
      userId: "U0FAKEUS2",
      username: "lee",
      actionId: "rollback_approve",
      value: "run_7f3c2a",
      buttonText: "Approve",
      style: "primary",
      channelName: "ml-ops",
      messageText: "Rollback request for recsys-api",
      triggerId: "3333333333.2222222222.0fakefakefakefakefakefakefake0002",
      responseUrl: "https://hooks.slack.com/actions/T0FAKE001/4444444444/fakeResponseToken0002",
      actionTs: "1767225630.123456",
    });
    expect(body).toBe(`payload=${encodeURIComponent(BLOCK_ACTIONS_JSON)}`);
    expect(signSlack(SECRET, 1767225631, body)).toBe(BLOCK_ACTIONS_SIG);
  });

  it("every click gets a distinct action_ts", () => {
    const opts = { userId: "U1", actionId: "rollback_approve", value: "run_1" };
    const a = decodePayload(blockActionsBody(opts)).actions[0]?.action_ts;
    const b = decodePayload(blockActionsBody(opts)).actions[0]?.action_ts;
    expect(a).not.toBe(b);
  });

  it("viewSubmissionBody decodes to the documented shape", () => {
    const values = { target_block: { target_version: { type: "plain_text_input", value: "v2.14.3" } } };
    const p = decodePayload(
      viewSubmissionBody({ userId: "U0FAKEUS1", callbackId: "ml_rollback_form", privateMetadata: '{"a":1}', values }),
    );
    expect(p.type).toBe("view_submission");
    expect(p.user.id).toBe("U0FAKEUS1");
    expect(p.view).toMatchObject({ type: "modal", callback_id: "ml_rollback_form", private_metadata: '{"a":1}' });
    expect(p.view.state.values).toEqual(values);
    expect(p.response_urls).toEqual([]);
  });

  it("round-trips arbitrary text and values through the form encoding", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string(), (text, value) => {
        expect(new URLSearchParams(slashCommandBody({ text })).get("text")).toBe(text);
        const p = decodePayload(blockActionsBody({ userId: "U1", actionId: "a", value }));
        expect(p.actions[0]?.value).toBe(value);
      }),
    );
  });
});

describe("postSigned", () => {
  async function withEchoServer(fn: (url: string, seen: () => { headers: IncomingHttpHeaders; body: string }) => Promise<void>) {
    let last = { headers: {} as IncomingHttpHeaders, body: "" };
    const server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        last = { headers: req.headers, body };
        res.writeHead(200, { "x-slack-no-retries": "1" }).end("ack");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`, () => last);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it("signs with the current time by default", async () => {
    await withEchoServer(async (url, seen) => {
      const body = slashCommandBody({ text: "status" });
      const res = await postSigned(url, SECRET, body);
      expect(res).toMatchObject({ status: 200, body: "ack" });
      expect(res.headers["x-slack-no-retries"]).toBe("1");
      expect(res.ms).toBeGreaterThanOrEqual(0);
      const { headers, body: received } = seen();
      expect(received).toBe(body);
      expect(headers["content-type"]).toBe("application/x-www-form-urlencoded");
      const ts = Number(headers["x-slack-request-timestamp"]);
      expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(5);
      expect(headers["x-slack-signature"]).toBe(signSlack(SECRET, ts, body));
    });
  });

  it("lets a test forge or drop timestamp and signature", async () => {
    await withEchoServer(async (url, seen) => {
      await postSigned(url, SECRET, "a=1", { timestamp: 1767225600, signature: "v1=nope", headers: { "x-extra": "y" } });
      expect(seen().headers).toMatchObject({
        "x-slack-request-timestamp": "1767225600",
        "x-slack-signature": "v1=nope",
        "x-extra": "y",
      });
      await postSigned(url, SECRET, "{}", { timestamp: null, signature: null, contentType: "application/json" });
      expect(seen().headers).not.toHaveProperty("x-slack-request-timestamp");
      expect(seen().headers).not.toHaveProperty("x-slack-signature");
      expect(seen().headers["content-type"]).toBe("application/json");
    });
  });
});
