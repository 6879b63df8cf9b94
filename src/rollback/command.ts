import { badInput } from '../errors.js';
import type { Json } from './types.js';

/**
 * The `/ml-rollback` grammar (DESIGN §2). Parsing is pure and total: any string either becomes a
 * fully validated Command or a BadInput error carrying the usage line. Nothing downstream
 * re-validates, so every value that can reach a shell, SQL or Redis is checked here.
 */

export const PROCEDURES = [
  'container',
  'migration',
  'data clear-embeddings',
  'data revert-matches',
  'data clear-review-queue',
  'full',
  'redis clear-jobs',
  'verify',
  'regenerate',
  'restore',
] as const;
export type ProcedureName = (typeof PROCEDURES)[number];

export const USAGE: Record<ProcedureName | 'help' | 'status' | 'history' | 'incident' | 'unlock', string> = {
  help: 'help [PROCEDURE]',
  container: 'container [--k8s | --compose] [--to-revision N] [--tag TAG] [--dry-run]',
  migration: 'migration (--steps N | --to REV | --pre-phase7) [--dry-run]',
  'data clear-embeddings': 'data clear-embeddings [--supplier UUID] [--dry-run]',
  'data revert-matches': 'data revert-matches --since TIMESTAMP [--dry-run]',
  'data clear-review-queue': 'data clear-review-queue --since TIMESTAMP [--dry-run]',
  full: 'full [--force-extension] [--dry-run]',
  'redis clear-jobs': 'redis clear-jobs [--dry-run]',
  verify: 'verify',
  regenerate: 'regenerate [--limit N] [--dry-run]',
  restore: 'restore BACKUP [--table NAME] [--dry-run]',
  status: 'status [REQUEST_ID]',
  history: 'history [N] [--json]',
  unlock: 'unlock --reason TEXT',
  incident:
    'incident declare P1|P2|P3|P4 IMPACT… | incident update ID [--status investigating|identified|resolved] [--eta …] [--actions …] | incident resolve ID | incident list',
};

export type Command =
  | { kind: 'help'; topic?: string }
  | { kind: 'status'; requestId?: string }
  | { kind: 'history'; limit: number; json: boolean }
  | { kind: 'unlock'; reason: string }
  | {
      kind: 'procedure';
      procedure: ProcedureName;
      args: { [k: string]: Json };
      dryRun: boolean;
      emergency?: string;
    }
  | { kind: 'incident-declare'; severity: Severity; impact: string }
  | { kind: 'incident-update'; incidentId: string; status?: IncidentStatus; eta?: string; actions?: string; impact?: string }
  | { kind: 'incident-resolve'; incidentId: string }
  | { kind: 'incident-list' };

export type Severity = 'P1' | 'P2' | 'P3' | 'P4';
export type IncidentStatus = 'investigating' | 'identified' | 'resolved';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const REQUEST_ID_RE = /^R-[1-9][0-9]{0,9}$/;
export const INCIDENT_ID_RE = /^INC-[1-9][0-9]{0,9}$/;
const REVISION_RE = /^[A-Za-z0-9_]{1,64}$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const BACKUP_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const TABLE_RE = /^[a-z_][a-z0-9_]{0,62}$/;

export interface ParseOptions {
  /** Zone for timestamps written without an offset; undefined means an offset is required. */
  readonly timeZone?: string;
  readonly now?: () => Date;
}

/** Splits on whitespace, honouring "double" and 'single' quotes (Slack sends curly ones too). */
export function tokenize(text: string): string[] {
  const normalised = text
    .replace(/[\u201C\u201D\u201E]/g, '"')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of normalised.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

interface FlagSpec {
  readonly [flag: string]: 'bool' | 'value' | 'rest';
}

function readFlags(tokens: string[], spec: FlagSpec, usage: string): { flags: Map<string, string | true>; positional: string[] } {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (!tok.startsWith('--')) {
      positional.push(tok);
      continue;
    }
    const [name, inline] = tok.includes('=') ? [tok.slice(0, tok.indexOf('=')), tok.slice(tok.indexOf('=') + 1)] : [tok, undefined];
    const kind = spec[name];
    if (!kind) throw usageError(`unknown option ${clip(name)}`, usage);
    if (flags.has(name)) throw usageError(`${name} given twice`, usage);
    if (kind === 'bool') {
      if (inline !== undefined) throw usageError(`${name} takes no value`, usage);
      flags.set(name, true);
    } else if (kind === 'rest') {
      const rest = [inline, ...tokens.slice(i + 1)].filter((t): t is string => t !== undefined && t !== '');
      const stop = rest.findIndex((t, idx) => idx > 0 && spec[t.split('=')[0]!] !== undefined);
      const words = stop === -1 ? rest : rest.slice(0, stop);
      if (words.length === 0) throw usageError(`${name} needs a value`, usage);
      flags.set(name, words.join(' '));
      i += words.length - (inline !== undefined ? 1 : 0);
    } else {
      const value = inline ?? tokens[++i];
      if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) {
        throw usageError(`${name} needs a value`, usage);
      }
      flags.set(name, value);
    }
  }
  return { flags, positional };
}

function usageError(problem: string, usage: string) {
  return badInput(`${problem}\nUsage: /ml-rollback ${usage}`, { usage });
}

const clip = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n)}…` : s);

function intArg(value: string | true | undefined, name: string, min: number, max: number, usage: string): number | undefined {
  if (value === undefined) return undefined;
  if (value === true || !/^[0-9]+$/.test(value)) throw usageError(`${name} must be a whole number`, usage);
  if (value.length > 9) throw usageError(`${name} must be between ${min} and ${max}`, usage);
  const n = Number(value);
  if (n < min || n > max) throw usageError(`${name} must be between ${min} and ${max}`, usage);
  return n;
}

function matchOrFail(value: string | true | undefined, re: RegExp, what: string, usage: string): string | undefined {
  if (value === undefined) return undefined;
  if (value === true || !re.test(value)) throw usageError(`${what}: ${clip(String(value))} is not valid`, usage);
  return value;
}

/** An instant written ISO 8601 with an offset (or in the configured zone) → ISO UTC. */
export function parseInstant(value: string, opts: ParseOptions = {}): string {
  const iso = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(value.trim());
  if (!iso) throw badInput(`--since: "${clip(value)}" is not an ISO 8601 timestamp (e.g. 2024-01-15T10:00:00+01:00)`);
  const [, y, mo, d, h, mi, s = '00', frac = '0', zone] = iso;
  const fields = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const ms = Math.round(Number(`0.${frac}`) * 1000);
  const naiveUtc = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], ms);
  const back = new Date(naiveUtc);
  if (back.getUTCMonth() !== fields[1] - 1 || back.getUTCDate() !== fields[2] || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) {
    throw badInput(`--since: "${clip(value)}" is not a real date and time`);
  }
  let instant: number;
  if (zone) {
    if (zone.toUpperCase() === 'Z') instant = naiveUtc;
    else {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      const offMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
      if (offMin > 14 * 60) throw badInput(`--since: offset ${zone} is out of range`);
      instant = naiveUtc - sign * offMin * 60_000;
    }
  } else if (opts.timeZone) {
    instant = naiveUtc - zoneOffsetMs(naiveUtc, opts.timeZone);
  } else {
    throw badInput(`--since: "${clip(value)}" has no time zone; add an offset such as Z or +01:00`);
  }
  const now = opts.now?.() ?? new Date();
  if (instant > now.getTime()) throw badInput(`--since: ${new Date(instant).toISOString()} is in the future`);
  return new Date(instant).toISOString();
}

/** Offset of a zone at (approximately) the given instant, via Intl; good to the minute. */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).formatToParts(new Date(utcMs));
  } catch {
    throw badInput(`configured time zone ${timeZone} is unknown`);
  }
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - utcMs;
}

const COMMON: FlagSpec = { '--dry-run': 'bool', '--emergency': 'rest' };

function procedure(name: ProcedureName, rest: string[], opts: ParseOptions): Command {
  const usage = USAGE[name];
  const spec: Record<ProcedureName, FlagSpec> = {
    container: { '--k8s': 'bool', '--compose': 'bool', '--to-revision': 'value', '--tag': 'value' },
    migration: { '--steps': 'value', '--to': 'value', '--pre-phase7': 'bool' },
    'data clear-embeddings': { '--supplier': 'value' },
    'data revert-matches': { '--since': 'value' },
    'data clear-review-queue': { '--since': 'value' },
    full: { '--force-extension': 'bool' },
    'redis clear-jobs': {},
    verify: {},
    regenerate: { '--limit': 'value' },
    restore: { '--table': 'value' },
  };
  const { flags, positional } = readFlags(rest, { ...COMMON, ...spec[name] }, usage);
  const dryRun = flags.get('--dry-run') === true;
  const emergencyFlag = flags.get('--emergency');
  const emergency = typeof emergencyFlag === 'string' ? emergencyFlag.slice(0, 500) : undefined;
  const args: { [k: string]: Json } = {};

  switch (name) {
    case 'container': {
      if (flags.has('--k8s') && flags.has('--compose')) throw usageError('choose one of --k8s and --compose', usage);
      args.platform = flags.has('--k8s') ? 'k8s' : flags.has('--compose') ? 'compose' : 'auto';
      const rev = intArg(flags.get('--to-revision'), '--to-revision', 1, 1_000_000, usage);
      const tag = matchOrFail(flags.get('--tag'), TAG_RE, '--tag', usage);
      if (rev !== undefined && args.platform === 'compose') throw usageError('--to-revision applies to Kubernetes (--k8s)', usage);
      if (tag !== undefined && args.platform === 'k8s') throw usageError('--tag applies to Docker Compose (--compose)', usage);
      if (rev !== undefined) {
        args.toRevision = rev;
        args.platform = 'k8s';
      }
      if (tag !== undefined) {
        args.tag = tag;
        args.platform = 'compose';
      }
      break;
    }
    case 'migration': {
      const steps = intArg(flags.get('--steps'), '--steps', 1, 50, usage);
      const to = matchOrFail(flags.get('--to'), REVISION_RE, '--to', usage);
      const pre = flags.has('--pre-phase7');
      const chosen = [steps !== undefined, to !== undefined, pre].filter(Boolean).length;
      if (chosen !== 1) throw usageError('give exactly one of --steps N, --to REV, --pre-phase7', usage);
      if (steps !== undefined) args.steps = steps;
      if (to !== undefined) args.to = to;
      if (pre) args.prePhase7 = true;
      break;
    }
    case 'data clear-embeddings': {
      const supplier = matchOrFail(flags.get('--supplier'), UUID_RE, '--supplier must be a UUID', usage);
      if (supplier) args.supplier = supplier.toLowerCase();
      break;
    }
    case 'data revert-matches':
    case 'data clear-review-queue': {
      const since = flags.get('--since');
      if (since === undefined || since === true) throw usageError('--since TIMESTAMP is required', usage);
      try {
        args.since = parseInstant(since, opts);
      } catch (err) {
        throw usageError((err as Error).message, usage);
      }
      break;
    }
    case 'full':
      args.forceExtension = flags.has('--force-extension');
      break;
    case 'regenerate':
      args.limit = intArg(flags.get('--limit'), '--limit', 1, 1_000_000, usage) ?? 1000;
      break;
    case 'restore': {
      const backup = positional[0];
      if (!backup) throw usageError('BACKUP is required (see `history` or the backup named in a request thread)', usage);
      if (!BACKUP_RE.test(backup) || backup.includes('..')) throw usageError(`BACKUP ${clip(backup)} is not a backup name`, usage);
      args.backup = backup;
      const table = matchOrFail(flags.get('--table'), TABLE_RE, '--table', usage);
      if (table) args.table = table;
      break;
    }
    case 'redis clear-jobs':
    case 'verify':
      break;
  }
  // Checked after the flags, so `--supplier 1;DROP TABLE x` is refused for its UUID, not for `TABLE`.
  const positionalAllowed = name === 'restore' ? 1 : 0;
  if (positional.length > positionalAllowed) throw usageError(`unexpected argument ${clip(positional[positionalAllowed]!)}`, usage);
  return { kind: 'procedure', procedure: name, args, dryRun, ...(emergency !== undefined ? { emergency } : {}) };
}

function incident(rest: string[]): Command {
  const usage = USAGE.incident;
  const [verb, ...tail] = rest;
  switch (verb) {
    case 'declare': {
      const [sev, ...impact] = tail;
      const severity = sev?.toUpperCase();
      if (severity !== 'P1' && severity !== 'P2' && severity !== 'P3' && severity !== 'P4') {
        throw usageError('severity must be P1, P2, P3 or P4', usage);
      }
      const text = impact.join(' ').trim();
      if (!text) throw usageError('IMPACT is required: who is affected and how', usage);
      return { kind: 'incident-declare', severity, impact: text.slice(0, 1000) };
    }
    case 'update': {
      const [id, ...more] = tail;
      const incidentId = matchOrFail(id?.toUpperCase(), INCIDENT_ID_RE, 'incident id (INC-N)', usage);
      if (!incidentId) throw usageError('ID is required', usage);
      const { flags, positional } = readFlags(more, { '--status': 'value', '--eta': 'rest', '--actions': 'rest', '--impact': 'rest' }, usage);
      if (positional.length) throw usageError(`unexpected argument ${clip(positional[0]!)}`, usage);
      const status = flags.get('--status');
      if (status !== undefined && status !== 'investigating' && status !== 'identified' && status !== 'resolved') {
        throw usageError('--status must be investigating, identified or resolved', usage);
      }
      if (flags.size === 0) throw usageError('nothing to update: give --status, --eta, --actions or --impact', usage);
      const str = (k: string) => {
        const v = flags.get(k);
        return typeof v === 'string' ? v.slice(0, 1000) : undefined;
      };
      return {
        kind: 'incident-update',
        incidentId,
        ...(status ? { status } : {}),
        ...(str('--eta') ? { eta: str('--eta')! } : {}),
        ...(str('--actions') ? { actions: str('--actions')! } : {}),
        ...(str('--impact') ? { impact: str('--impact')! } : {}),
      };
    }
    case 'resolve': {
      const incidentId = matchOrFail(tail[0]?.toUpperCase(), INCIDENT_ID_RE, 'incident id (INC-N)', usage);
      if (!incidentId || tail.length !== 1) throw usageError('resolve takes one incident id', usage);
      return { kind: 'incident-resolve', incidentId };
    }
    case 'list':
      if (tail.length) throw usageError('list takes no arguments', usage);
      return { kind: 'incident-list' };
    default:
      throw usageError(verb ? `unknown incident command ${clip(verb)}` : 'incident needs a command', usage);
  }
}

export function parseCommand(text: string, opts: ParseOptions = {}): Command {
  if (text.length > 4000) throw badInput('command is too long');
  const tokens = tokenize(text.trim());
  const [first, second, ...rest] = tokens;
  const word = first?.toLowerCase();
  if (!word || word === 'help') {
    const topic = [second, ...rest].filter(Boolean).join(' ').toLowerCase();
    if (topic && !(topic in USAGE)) throw usageError(`no help for ${clip(topic)}`, USAGE.help);
    return topic ? { kind: 'help', topic } : { kind: 'help' };
  }
  switch (word) {
    case 'status': {
      if (rest.length) throw usageError('status takes at most one request id', USAGE.status);
      if (second === undefined) return { kind: 'status' };
      const id = second.toUpperCase();
      if (!REQUEST_ID_RE.test(id)) throw usageError(`${clip(second)} is not a request id (R-N)`, USAGE.status);
      return { kind: 'status', requestId: id };
    }
    case 'history': {
      const { flags, positional } = readFlags([second, ...rest].filter((t): t is string => t !== undefined), { '--json': 'bool' }, USAGE.history);
      if (positional.length > 1) throw usageError(`unexpected argument ${clip(positional[1]!)}`, USAGE.history);
      const limit = intArg(positional[0], 'N', 1, 200, USAGE.history) ?? 10;
      return { kind: 'history', limit, json: flags.has('--json') };
    }
    case 'unlock': {
      // Force-releasing the target lock is a break-glass act: the reason is required and audited.
      const { flags, positional } = readFlags([second, ...rest].filter((t): t is string => t !== undefined), { '--reason': 'rest' }, USAGE.unlock);
      const reason = flags.get('--reason');
      if (positional.length) throw usageError(`unexpected argument ${clip(positional[0]!)}`, USAGE.unlock);
      if (typeof reason !== 'string' || !reason.trim()) throw usageError('--reason TEXT is required', USAGE.unlock);
      return { kind: 'unlock', reason: reason.slice(0, 500) };
    }
    case 'incident':
      return incident([second, ...rest].filter((t): t is string => t !== undefined).map((t, i) => (i === 0 ? t.toLowerCase() : t)));
    case 'data':
    case 'redis': {
      const name = `${word} ${second?.toLowerCase() ?? ''}`;
      if (!(PROCEDURES as readonly string[]).includes(name)) {
        const options = PROCEDURES.filter((p) => p.startsWith(`${word} `)).map((p) => USAGE[p]);
        throw badInput(`unknown ${word} procedure ${clip(second ?? '(none)')}\nUsage: /ml-rollback ${options.join(' | ')}`);
      }
      return procedure(name as ProcedureName, rest, opts);
    }
    default:
      if ((PROCEDURES as readonly string[]).includes(word)) {
        return procedure(word as ProcedureName, [second, ...rest].filter((t): t is string => t !== undefined), opts);
      }
      throw badInput(`unknown command ${clip(first!)}. Try: /ml-rollback help`, { usage: USAGE.help });
  }
}
