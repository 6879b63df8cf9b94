import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runConsole } from '../../src/bot/console.js';
import { ConsoleNotifier } from '../../src/bot/consoleNotifier.js';
import { createRuntime } from '../../src/runtime.js';
import { SUPPLIER_A, SUPPLIER_B } from '../../src/sandbox/seed.js';
import { createTestEnv, memoryLogger } from '../support/env.js';

describe('the console adapter', () => {
  it('runs the same flow as Slack: plan, four eyes (case and odd names do not fool it), run, report', async () => {
    const env = await createTestEnv();
    const out = new PassThrough();
    let printed = '';
    out.on('data', (c: Buffer) => (printed += c.toString()));
    const notifier = new ConsoleNotifier(out);
    const rt = await createRuntime(env.config(), memoryLogger('warn').log, { notifier: () => notifier, runWorker: true, cancelPollMs: 100 });
    try {
      const input = PassThrough.from([
        `data clear-embeddings --supplier ${SUPPLIER_A}\n`,
        'approve R-1 --as ROOT\n',
        'approve R-1 --as bob; rm -rf /\n',
        'approve R-1 --as Bob\n',
        'wait R-1\n',
        'status R-1\n',
      ]);
      await runConsole({ service: rt.service, store: rt.store, notifier, input, output: out, user: 'root' });
      expect(printed).toContain('✋ you requested this plan, so someone else must approve it (four eyes)');
      expect(printed).toContain('✋ names are a letter then letters, digits');
      expect(printed).toContain('[R-1] approved by bob');
      expect(printed).toMatch(/\[R-1\] ✅ R-1 succeeded/);
      const approvals = (await rt.store.decisions('R-1')).map((d) => d.userId);
      expect(approvals).toEqual(['bob']);
      const { rows } = await env.db.query<{ supplier_id: string; n: string }>(
        'SELECT si.supplier_id, count(*) AS n FROM product_embeddings pe JOIN supplier_items si ON si.id = pe.supplier_item_id GROUP BY 1',
      );
      expect(Object.fromEntries(rows.map((r) => [r.supplier_id, Number(r.n)]))).toEqual({ [SUPPLIER_B]: 40 });
    } finally {
      await rt.close();
      await env.cleanup();
    }
  });
});
