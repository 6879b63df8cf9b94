import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { describeState } from '../requests/format.js';
import { REQUEST_ID_RE } from '../rollback/command.js';
import type { ButtonAction, RequestService } from '../requests/service.js';
import type { Store } from '../store/store.js';
import type { ConsoleNotifier } from './consoleNotifier.js';

const CONSOLE_HELP = `Console commands: everything /ml-rollback takes in Slack, without the prefix ("help" lists them),
e.g. verify · redis clear-jobs · data clear-embeddings --supplier UUID · container --compose --tag TAG ·
migration --pre-phase7 · full · restore BACKUP · incident declare P2 IMPACT… · status [R-N] · history
And the buttons, typed:
  approve R-N --as NAME      approve as another person (four eyes)
  reject R-N [--as NAME] · cancel R-N · abort R-N · replan R-N (an expired request)
  retry R-N [--from STEP] · skip R-N (continue after an interrupted step)
  as NAME                    act as NAME from now on
  wait R-N                   wait until R-N has finished
  quit`;

/**
 * Console identities are typed, not authenticated; they are still one person each: `ROOT` is `root`,
 * so nobody approves their own plan by changing case.
 */
export function personName(raw: string): string | undefined {
  const name = raw.trim().toLowerCase();
  return /^[a-z][a-z0-9._-]{0,31}$/.test(name) ? name : undefined;
}

/**
 * The same commands as Slack, in a terminal (like Hubot's shell adapter). Reads lines from any
 * stream, so it can be typed at or scripted; at end of input it waits for running requests.
 */
export async function runConsole(o: {
  service: RequestService;
  store: Store;
  notifier: ConsoleNotifier;
  input: Readable;
  output: Writable;
  user: string;
  channel?: string;
}): Promise<void> {
  let user = personName(o.user) ?? 'operator';
  const channel = o.channel ?? 'ml-analyze';
  // Replies are written for Slack (mrkdwn); a terminal shows *bold* as noise.
  const say = (t: string) => o.output.write(`${t.replace(/\*([^*\n]+)\*/g, '$1')}\n`);
  const interactive = (o.input as { isTTY?: boolean }).isTTY === true;
  const rl = createInterface({ input: o.input, output: interactive ? o.output : undefined, terminal: interactive });
  const active = new Set<string>();
  const prompt = () => interactive && rl.prompt();
  rl.on('SIGINT', () => rl.close());
  rl.setPrompt(`${user}@#${channel}> `);
  say(`ml-rollback console — you are ${user} in #${channel}. Type "help" (or "console help").`);
  prompt();

  const track = (id: string | undefined) => {
    if (!id) return;
    active.add(id);
    void o.notifier.waitFor(id).then(() => active.delete(id));
  };

  for await (const raw of rl) {
    const line = raw.trim().replace(/^\/ml-rollback\s*/, '');
    if (!line || line.startsWith('#')) {
      prompt();
      continue;
    }
    const asMatch = /\s--as\s+(.+?)\s*$/.exec(line);
    const who = asMatch ? personName(asMatch[1]!) : user;
    const text = asMatch ? line.slice(0, asMatch.index) : line;
    const [word, arg, ...rest] = text.split(/\s+/);
    if (word === 'quit' || word === 'exit') break;
    if (who === undefined) say(`✋ names are a letter then letters, digits, ".", "_" or "-" (e.g. --as bob); nothing was done`);
    else if (word === 'console' && arg === 'help') say(CONSOLE_HELP);
    else if (word === 'as' && arg) {
      const next = personName(arg);
      if (!next) {
        say('✋ names are a letter then letters, digits, ".", "_" or "-"');
        prompt();
        continue;
      }
      user = next;
      rl.setPrompt(`${user}@#${channel}> `);
      say(`you are now ${user}`);
    } else if (word === 'wait' && arg) {
      const id = arg.toUpperCase();
      const req = await o.store.getRequest(id);
      if (req && ['approved', 'running'].includes(req.state)) await o.notifier.waitFor(id);
      else say(req ? describeState(id, req.state) : `no request ${id}`);
    } else if (word === 'replan' && arg && REQUEST_ID_RE.test(arg.toUpperCase())) {
      const r = await o.service.replan(arg.toUpperCase(), who);
      say(r.ok ? r.text : `✋ ${r.text}`);
    } else if (word && ['approve', 'reject', 'cancel', 'retry', 'abort', 'skip'].includes(word)) {
      const id = arg?.toUpperCase();
      const from = rest[0] === '--from' ? Number(rest[1]) - 1 : undefined;
      if (!id || !REQUEST_ID_RE.test(id) || (from !== undefined && !Number.isInteger(from))) say(`usage: ${word} R-N${word === 'retry' ? ' [--from STEP]' : ''} [--as NAME]`);
      else {
        const r = await o.service.act(word as ButtonAction, id, who, from !== undefined ? { fromStep: from } : {});
        say(r.ok ? r.text : `✋ ${r.text}`);
        if (r.ok && (word === 'approve' || word === 'retry' || word === 'skip')) track(id);
      }
    } else {
      const r = await o.service.handle(text, { userId: who, channelId: channel, channelName: channel });
      say(r.ok ? r.text : `✋ ${r.text}`);
      const req = r.requestId ? await o.store.getRequest(r.requestId) : null;
      if (req && (req.state === 'approved' || req.state === 'running')) track(req.id);
    }
    prompt();
  }
  rl.close();
  if (active.size) {
    say(`waiting for ${[...active].join(', ')} to finish…`);
    await Promise.all([...active].map((id) => o.notifier.waitFor(id)));
  }
}
