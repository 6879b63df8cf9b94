import { createHmac } from "node:crypto";

/** Slack's v0 request signature: `v0=` + hex HMAC-SHA256 of `v0:<ts>:<raw body>`. */
export function signSlack(secret: string, timestamp: number | string, rawBody: string): string {
  const mac = createHmac("sha256", secret).update(`v0:${timestamp}:${rawBody}`).digest("hex");
  return `v0=${mac}`;
}

export interface SlashFields {
  token: string;
  team_id: string;
  team_domain: string;
  channel_id: string;
  channel_name: string;
  user_id: string;
  user_name: string;
  command: string;
  text: string;
  api_app_id: string;
  is_enterprise_install: string;
  /** Omitted from the body when undefined so a test can never reach the real hooks.slack.com by accident. */
  response_url: string | undefined;
  trigger_id: string;
}

// trigger_ids are single-use in Slack, so every generated payload gets a fresh one.
let seq = 0;
function nextTriggerId(): string {
  seq += 1;
  return `1111111111.2222222222.0fake${String(seq).padStart(28, "0")}`;
}
function nextActionTs(): string {
  seq += 1;
  return `${Math.floor(Date.now() / 1000)}.${String(seq % 1_000_000).padStart(6, "0")}`;
}

/** Slash command fields as an object (the Socket Mode `slash_commands` payload uses this shape). */
export function slashCommandFields(fields: Partial<SlashFields> & { text: string }): SlashFields {
  // Key order follows what Slack sends, so the form body matches the documented test vector.
  return {
    token: fields.token ?? "legacyVerifTok",
    team_id: fields.team_id ?? "T0FAKE001",
    team_domain: fields.team_domain ?? "acme-ml",
    channel_id: fields.channel_id ?? "C0FAKE0CH",
    channel_name: fields.channel_name ?? "ml-analyze",
    user_id: fields.user_id ?? "U0FAKEUS1",
    user_name: fields.user_name ?? "dana",
    command: fields.command ?? "/ml-rollback",
    text: fields.text,
    api_app_id: fields.api_app_id ?? "A0FAKEAPP",
    is_enterprise_install: fields.is_enterprise_install ?? "false",
    response_url: fields.response_url,
    trigger_id: fields.trigger_id ?? nextTriggerId(),
  };
}

/** application/x-www-form-urlencoded body of a slash command, as Slack posts it over HTTP. */
export function slashCommandBody(fields: Partial<SlashFields> & { text: string }): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(slashCommandFields(fields))) {
    if (value !== undefined) form.append(key, value);
  }
  return form.toString();
}

export interface BlockActionsOptions {
  userId: string;
  actionId: string;
  value: string;
  channelId?: string;
  channelName?: string;
  messageTs?: string;
  messageText?: string;
  responseUrl?: string;
  blockId?: string;
  username?: string;
  buttonText?: string;
  style?: "primary" | "danger";
  triggerId?: string;
  actionTs?: string;
}

/** The documented block_actions payload for a button click on a channel message. */
export function blockActionsPayload(o: BlockActionsOptions): Record<string, unknown> {
  const channelId = o.channelId ?? "C0FAKE0CH";
  const messageTs = o.messageTs ?? "1767225601.000100";
  const username = o.username ?? "lee";
  return {
    type: "block_actions",
    user: { id: o.userId, username, name: username, team_id: "T0FAKE001" },
    api_app_id: "A0FAKEAPP",
    token: "legacyVerifTok",
    container: { type: "message", message_ts: messageTs, channel_id: channelId, is_ephemeral: false },
    trigger_id: o.triggerId ?? nextTriggerId(),
    team: { id: "T0FAKE001", domain: "acme-ml" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: o.channelName ?? "ml-analyze" },
    message: {
      type: "message",
      subtype: "bot_message",
      text: o.messageText ?? "Rollback request",
      ts: messageTs,
      bot_id: "B0FAKEBOT",
      blocks: [],
    },
    state: { values: {} },
    response_url: o.responseUrl,
    actions: [
      {
        action_id: o.actionId,
        block_id: o.blockId ?? "approval_actions",
        text: { type: "plain_text", text: o.buttonText ?? o.actionId, emoji: true },
        value: o.value,
        style: o.style,
        type: "button",
        action_ts: o.actionTs ?? nextActionTs(),
      },
    ],
  };
}

function payloadForm(payload: unknown): string {
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** HTTP body of a button click: a single `payload` form field holding the JSON. */
export function blockActionsBody(opts: BlockActionsOptions): string {
  return payloadForm(blockActionsPayload(opts));
}

export interface ViewSubmissionOptions {
  userId: string;
  callbackId: string;
  privateMetadata: string;
  /** `view.state.values`: block_id → action_id → element state. */
  values: Record<string, Record<string, unknown>>;
  userName?: string;
  viewId?: string;
  triggerId?: string;
}

/** The documented view_submission payload for a modal submit. */
export function viewSubmissionPayload(o: ViewSubmissionOptions): Record<string, unknown> {
  const viewId = o.viewId ?? "V0FAKEVW1";
  return {
    type: "view_submission",
    team: { id: "T0FAKE001", domain: "acme-ml" },
    user: { id: o.userId, name: o.userName ?? "dana", team_id: "T0FAKE001" },
    api_app_id: "A0FAKEAPP",
    token: "legacyVerifTok",
    trigger_id: o.triggerId ?? nextTriggerId(),
    is_enterprise_install: false,
    enterprise: null,
    view: {
      id: viewId,
      team_id: "T0FAKE001",
      type: "modal",
      callback_id: o.callbackId,
      private_metadata: o.privateMetadata,
      title: { type: "plain_text", text: "ML rollback" },
      submit: { type: "plain_text", text: "Request" },
      close: { type: "plain_text", text: "Cancel" },
      blocks: [],
      state: { values: o.values },
      hash: "1767225700.abcdef12",
      root_view_id: viewId,
      previous_view_id: null,
      external_id: "",
      app_id: "A0FAKEAPP",
      bot_id: "B0FAKEBOT",
      clear_on_close: false,
      notify_on_close: false,
    },
    response_urls: [],
  };
}

export function viewSubmissionBody(opts: ViewSubmissionOptions): string {
  return payloadForm(viewSubmissionPayload(opts));
}

export interface PostSignedOptions {
  /** Defaults to now (seconds); `null` omits the header. */
  timestamp?: number | string | null;
  contentType?: string;
  /** Defaults to the correct signature; `null` omits the header. */
  signature?: string | null;
  headers?: Record<string, string>;
}

export interface PostSignedResult {
  status: number;
  body: string;
  headers: Record<string, string>;
  ms: number;
}

/** POST a body the way Slack does, signed unless the test forges timestamp/signature. */
export async function postSigned(
  url: string,
  secret: string,
  rawBody: string,
  opts: PostSignedOptions = {},
): Promise<PostSignedResult> {
  const timestamp = opts.timestamp === undefined ? Math.floor(Date.now() / 1000) : opts.timestamp;
  const signature =
    opts.signature === undefined ? signSlack(secret, timestamp ?? "", rawBody) : opts.signature;
  const headers: Record<string, string> = {
    "content-type": opts.contentType ?? "application/x-www-form-urlencoded",
  };
  if (timestamp !== null) headers["x-slack-request-timestamp"] = String(timestamp);
  if (signature !== null) headers["x-slack-signature"] = signature;

  const started = performance.now();
  const res = await fetch(url, { method: "POST", headers: { ...headers, ...opts.headers }, body: rawBody });
  const body = await res.text();
  return {
    status: res.status,
    body,
    headers: Object.fromEntries(res.headers.entries()),
    ms: performance.now() - started,
  };
}
