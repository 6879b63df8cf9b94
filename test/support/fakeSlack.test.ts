import { WebClient, type WebAPIRateLimitedError } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeSlack, type FakeSlack } from "./fakeSlack.js";

describe("fakeSlack with a real WebClient", () => {
  let fake: FakeSlack;
  let client: WebClient;

  beforeEach(async () => {
    fake = await startFakeSlack();
    client = new WebClient("xoxb-test", {
      slackApiUrl: fake.apiUrl,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
    });
  });

  afterEach(async () => {
    await fake.close();
  });

  /** Slack always returns ts on success; narrowing here keeps the assertions below readable. */
  function tsOf(result: { ts?: string }): string {
    expect(result.ts).toBeTypeOf("string");
    return result.ts as string;
  }

  const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*Rollback* recsys-api" } }];

  it("posts and updates a message, with blocks parsed back into arrays", async () => {
    const ts = tsOf(await client.chat.postMessage({ channel: "C0FAKE0CH", text: "Rollback", blocks }));
    expect(ts).toBe("1767225600.000100");

    const call = fake.callsOf("chat.postMessage")[0];
    expect(call?.token).toBe("xoxb-test");
    expect(call?.body.blocks).toEqual(blocks);
    expect(fake.message("C0FAKE0CH", ts)).toMatchObject({ text: "Rollback", blocks });

    const newBlocks = [{ type: "section", text: { type: "mrkdwn", text: "Done" } }];
    const updated = await client.chat.update({ channel: "C0FAKE0CH", ts: ts, text: "Done", blocks: newBlocks });
    expect(updated.ok).toBe(true);
    expect(fake.message("C0FAKE0CH", ts)).toMatchObject({ text: "Done", blocks: newBlocks, updates: 1 });

    await expect(client.chat.update({ channel: "C0FAKE0CH", ts: "1.000000", text: "x" })).rejects.toMatchObject({
      data: { ok: false, error: "message_not_found" },
    });
  });

  it("keeps thread replies and gives increasing ts values", async () => {
    const parent = tsOf(await client.chat.postMessage({ channel: "C1", text: "parent" }));
    const r1 = tsOf(await client.chat.postMessage({ channel: "C1", text: "step 1", thread_ts: parent }));
    const r2 = tsOf(await client.chat.postMessage({ channel: "C1", text: "step 2", thread_ts: parent }));
    expect(Number(r2)).toBeGreaterThan(Number(r1));
    expect(fake.threadReplies("C1", parent).map((m) => m.text)).toEqual(["step 1", "step 2"]);
    expect(fake.message("C1", r1)?.thread_ts).toBe(parent);
  });

  it("surfaces a 429 with retryAfter on the WebClient error", async () => {
    fake.rateLimit("chat.postMessage", 1, 7);
    const err = (await client.chat.postMessage({ channel: "C1", text: "x" }).catch((e: unknown) => e)) as WebAPIRateLimitedError;
    expect(err.code).toBe("slack_webapi_rate_limited_error");
    expect(err.retryAfter).toBe(7);
    expect(fake.callsOf("chat.postMessage")[0]).toMatchObject({ limited: true, status: 429 });

    await expect(client.chat.postMessage({ channel: "C1", text: "x" })).resolves.toMatchObject({ ok: true });
  });

  it("answers the other methods the bot uses", async () => {
    fake.setUsergroup("S0APPROVERS", ["U0FAKEUS2", "U0FAKEUS3"]);
    fake.setChannel("C2", "ml-ops");
    await expect(client.auth.test()).resolves.toMatchObject({ user_id: "U0FAKEBOT", bot_id: "B0FAKEBOT" });
    await expect(client.usergroups.users.list({ usergroup: "S0APPROVERS" })).resolves.toMatchObject({
      users: ["U0FAKEUS2", "U0FAKEUS3"],
    });
    await expect(client.usergroups.users.list({ usergroup: "S0NOPE" })).rejects.toMatchObject({
      data: { error: "no_such_subteam" },
    });
    await expect(client.conversations.info({ channel: "C2" })).resolves.toMatchObject({ channel: { name: "ml-ops" } });
    await expect(client.conversations.info({ channel: "C3" })).resolves.toMatchObject({ channel: { name: "ml-analyze" } });
    const view = { type: "modal" as const, title: { type: "plain_text" as const, text: "ML rollback" }, blocks: [] };
    const opened = await client.views.open({ trigger_id: "t", view });
    expect(fake.callsOf("views.open")[0]?.body.view).toEqual(view);
    const viewId = opened.view?.id ?? "";
    expect(viewId).toMatch(/^V0FAKE/);
    await expect(client.views.update({ view_id: viewId, view })).resolves.toMatchObject({ view: { id: viewId } });
    await expect(client.apiCall("no.such.method")).rejects.toMatchObject({ data: { error: "unknown_method" } });
    fake.fail("chat.postEphemeral", "not_in_channel");
    await expect(client.chat.postEphemeral({ channel: "C2", user: "U1", text: "x" })).rejects.toMatchObject({
      data: { error: "not_in_channel" },
    });
    await expect(client.chat.postEphemeral({ channel: "C2", user: "U1", text: "x" })).resolves.toHaveProperty("message_ts");
  });

  it("records JSON posts to a response_url", async () => {
    const res = await fetch(fake.responseUrl("abc"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ response_type: "ephemeral", text: "hi", blocks }),
    });
    expect(res.status).toBe(200);
    expect(fake.callsOf("response_url")[0]).toMatchObject({ responseId: "abc", body: { text: "hi", blocks } });
  });

  it("waitFor resolves on a future call and times out listing what was seen", async () => {
    const waiting = fake.waitFor((c) => c.method === "chat.update" && c.body.text === "later");
    const ts = tsOf(await client.chat.postMessage({ channel: "C1", text: "now" }));
    await client.chat.update({ channel: "C1", ts: ts, text: "later" });
    await expect(waiting).resolves.toMatchObject({ method: "chat.update", body: { ts } });

    // Existing calls match immediately.
    await expect(fake.waitFor("chat.postMessage")).resolves.toMatchObject({ body: { text: "now" } });

    await expect(fake.waitFor("views.open", 50)).rejects.toThrow(/recorded calls: \[chat.postMessage, chat.update\]/);
    fake.reset();
    expect(fake.calls).toHaveLength(0);
    expect(fake.message("C1", ts)).toBeUndefined();
  });
});
