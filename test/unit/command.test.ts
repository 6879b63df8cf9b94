import { describe, expect, it } from 'vitest';
import { parseCommand, parseInstant, tokenize } from '../../src/rollback/command.js';
import { AppError } from '../../src/errors.js';

const UUID = '11111111-1111-4111-8111-111111111111';
const NOW = () => new Date('2026-12-03T12:00:00Z');
const parse = (text: string) => parseCommand(text, { now: NOW });

/** The refusal of `text`: a BadInput AppError whose message carries the usage line. */
function refusal(text: string): AppError {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('bad_input');
    return err as AppError;
  }
  throw new Error(`"${text}" was accepted`);
}

describe('command grammar (DESIGN §2): valid input', () => {
  it.each([
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['help data clear-embeddings', { kind: 'help', topic: 'data clear-embeddings' }],
    ['HELP Container', { kind: 'help', topic: 'container' }],
    ['status', { kind: 'status' }],
    ['status r-42', { kind: 'status', requestId: 'R-42' }],
    ['history', { kind: 'history', limit: 10, json: false }],
    ['history 25 --json', { kind: 'history', limit: 25, json: true }],
    ['incident list', { kind: 'incident-list' }],
    ['incident declare p1 matching is down for all suppliers', { kind: 'incident-declare', severity: 'P1', impact: 'matching is down for all suppliers' }],
    ['incident update inc-7 --status identified --eta 30 min', { kind: 'incident-update', incidentId: 'INC-7', status: 'identified', eta: '30 min' }],
    ['incident resolve INC-7', { kind: 'incident-resolve', incidentId: 'INC-7' }],
  ])('%j', (text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  const proc = (procedure: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ kind: 'procedure', procedure, args, dryRun: false, ...extra });
  it.each([
    ['container', proc('container', { platform: 'auto' })],
    ['container --k8s', proc('container', { platform: 'k8s' })],
    ['container --compose', proc('container', { platform: 'compose' })],
    ['container --to-revision 3', proc('container', { platform: 'k8s', toRevision: 3 })],
    ['container --tag v1.4.2', proc('container', { platform: 'compose', tag: 'v1.4.2' })],
    ['container --compose --tag=v1.4.2-rc.1', proc('container', { platform: 'compose', tag: 'v1.4.2-rc.1' })],
    ['migration --steps 2', proc('migration', { steps: 2 })],
    ['migration --to 006', proc('migration', { to: '006' })],
    ['migration --pre-phase7', proc('migration', { prePhase7: true })],
    ['data clear-embeddings', proc('data clear-embeddings', {})],
    [`data clear-embeddings --supplier ${UUID.toUpperCase()}`, proc('data clear-embeddings', { supplier: UUID })],
    [`data clear-embeddings --supplier "${UUID}"`, proc('data clear-embeddings', { supplier: UUID })],
    ['data revert-matches --since 2024-01-15T10:00:00Z', proc('data revert-matches', { since: '2024-01-15T10:00:00.000Z' })],
    ['data revert-matches --since "2024-01-15 10:00:00+01:00"', proc('data revert-matches', { since: '2024-01-15T09:00:00.000Z' })],
    ['data clear-review-queue --since 2024-01-15T10:00-0500', proc('data clear-review-queue', { since: '2024-01-15T15:00:00.000Z' })],
    ['full', proc('full', { forceExtension: false })],
    ['full --force-extension', proc('full', { forceExtension: true })],
    ['redis clear-jobs', proc('redis clear-jobs', {})],
    ['REDIS Clear-Jobs', proc('redis clear-jobs', {})],
    ['verify', proc('verify', {})],
    ['regenerate', proc('regenerate', { limit: 1000 })],
    ['regenerate --limit 50', proc('regenerate', { limit: 50 })],
    ['restore R-3-product_embeddings', proc('restore', { backup: 'R-3-product_embeddings' })],
    ['restore R-3-backup.dump --table supplier_items', proc('restore', { backup: 'R-3-backup.dump', table: 'supplier_items' })],
    ['verify --dry-run', proc('verify', {}, { dryRun: true })],
    ['redis clear-jobs --emergency queue is wedged, P1 open', proc('redis clear-jobs', {}, { emergency: 'queue is wedged, P1 open' })],
    ['full --emergency "site down" --dry-run', proc('full', { forceExtension: false }, { dryRun: true, emergency: 'site down' })],
  ])('%j', (text, expected) => {
    expect(parse(text)).toEqual(expected);
  });
});

describe('command grammar: refusals carry the usage line', () => {
  it.each([
    ['help frobnicate', 'no help for frobnicate'],
    ['status 42', 'is not a request id'],
    ['status R-1 R-2', 'at most one request id'],
    ['status R-0', 'is not a request id'],
    ['history -3', 'N must be a whole number'],
    ['history 0', 'between 1 and 200'],
    ['history 5 6', 'unexpected argument 6'],
    ['container --k8s --compose', 'choose one of --k8s and --compose'],
    ['container --to-revision abc', '--to-revision must be a whole number'],
    ['container --compose --to-revision 2', '--to-revision applies to Kubernetes'],
    ['container --k8s --tag v1', '--tag applies to Docker Compose'],
    ['container --tag "v1;reboot"', '--tag: v1;reboot is not valid'],
    ['container --tag', '--tag needs a value'],
    ['container --k8s --k8s', '--k8s given twice'],
    ['container --dry-run=yes', '--dry-run takes no value'],
    ['container rollback', 'unexpected argument rollback'],
    ['migration', 'give exactly one of'],
    ['migration --steps 2 --to 006', 'give exactly one of'],
    ['migration --steps 0', 'between 1 and 50'],
    ['migration --to "006; DROP"', '--to: 006; DROP is not valid'],
    ['data clear-embeddings --supplier 1;DROP TABLE x', '--supplier must be a UUID'],
    // The lone quote does not close, so the words stay apart and the trailing `--` is refused first.
    ["data clear-embeddings --supplier '; DROP TABLE supplier_items; --", 'unknown option --'],
    ["data clear-embeddings --supplier '; DROP TABLE supplier_items; --'", '--supplier must be a UUID'],
    ['data clear-embeddings --everything', 'unknown option --everything'],
    ['data revert-matches', '--since TIMESTAMP is required'],
    ['data revert-matches --since 2024-01-15T10:00:00', 'has no time zone'],
    ['data revert-matches --since 2024-02-30T10:00:00Z', 'is not a real date'],
    ['data revert-matches --since 2099-01-01T00:00:00Z', 'is in the future'],
    ['data revert-matches --since yesterday', 'is not an ISO 8601 timestamp'],
    ['data clear-review-queue --since 2024-01-15T10:00:00+15:00', 'out of range'],
    ['data frobnicate', 'unknown data procedure frobnicate'],
    ['data', 'unknown data procedure (none)'],
    ['redis flushall', 'unknown redis procedure flushall'],
    ['full --force', 'unknown option --force'],
    ['redis clear-jobs ml-analyze:*', 'unexpected argument ml-analyze:*'],
    ['verify now', 'unexpected argument now'],
    ['regenerate --limit 10000000', 'between 1 and 1000000'],
    ['regenerate --limit 1e3', 'whole number'],
    ['restore', 'BACKUP is required'],
    ['restore ../../etc/passwd', 'is not a backup name'],
    ['restore R-1..x', 'is not a backup name'],
    ['restore R-1-x --table "a b"', '--table'],
    ['restore R-1-x R-2-y', 'unexpected argument R-2-y'],
    ['verify --emergency', '--emergency needs a value'],
    ['incident declare P5 broken', 'severity must be P1, P2, P3 or P4'],
    ['incident declare P2', 'IMPACT is required'],
    ['incident update INC-1', 'nothing to update'],
    ['incident update INC-1 --status fixed', '--status must be'],
    ['incident update 7 --status resolved', 'incident id (INC-N)'],
    ['incident resolve INC-1 INC-2', 'resolve takes one incident id'],
    ['incident list all', 'list takes no arguments'],
    ['incident', 'incident needs a command'],
  ])('%j', (text, problem) => {
    const err = refusal(text);
    expect(err.message).toContain(problem);
    expect(err.message).toMatch(/\nUsage: \/ml-rollback /);
  });

  it.each(['frobnicate', '$(rm -rf /)', '`rm -rf /`', 'rm -rf /'])('an unknown command word %j is refused and points to help', (text) => {
    const err = refusal(text);
    expect(err.message).toMatch(/^unknown command /);
    expect(err.details.usage).toBe('help [PROCEDURE]');
  });

  it('refuses very long input before tokenising it', () => {
    expect(refusal(`verify ${'x'.repeat(5000)}`).message).toBe('command is too long');
  });

  it('clips echoed input so a refusal stays short', () => {
    expect(refusal(`container --tag ${'a;'.repeat(200)}`).message.split('\n')[0]!.length).toBeLessThan(120);
  });
});

describe('tokenising what Slack sends', () => {
  it('undoes Slack escaping of & < >', () => {
    expect(tokenize('incident declare P2 search &lt;slow&gt; &amp; flaky')).toEqual(['incident', 'declare', 'P2', 'search', '<slow>', '&', 'flaky']);
  });

  it('treats curly quotes as straight ones', () => {
    expect(tokenize('full --emergency \u201Csite is down\u201D')).toEqual(['full', '--emergency', 'site is down']);
    expect(tokenize('restore \u2018R-1-x\u2019')).toEqual(['restore', 'R-1-x']);
    expect(parse('data revert-matches --since \u201C2024-01-15 10:00:00Z\u201D')).toMatchObject({ args: { since: '2024-01-15T10:00:00.000Z' } });
  });

  it('keeps quoted whitespace and drops empty runs of spaces', () => {
    expect(tokenize('  a   "b  c"  \'d e\'  ')).toEqual(['a', 'b  c', 'd e']);
  });

  it('a Slack-escaped injection attempt is still refused after unescaping', () => {
    expect(refusal('data clear-embeddings --supplier &lt;script&gt;').message).toContain('<script> is not valid');
  });
});

describe('instants', () => {
  it('uses the configured zone for a timestamp without an offset', () => {
    expect(parseInstant('2024-01-15 10:00:00', { timeZone: 'Europe/Berlin', now: NOW })).toBe('2024-01-15T09:00:00.000Z');
    expect(parseInstant('2024-07-15T10:00', { timeZone: 'Europe/Berlin', now: NOW })).toBe('2024-07-15T08:00:00.000Z');
  });

  it('refuses an unknown configured zone', () => {
    expect(() => parseInstant('2024-01-15 10:00:00', { timeZone: 'Mars/Olympus', now: NOW })).toThrow(/time zone Mars\/Olympus is unknown/);
  });
});
