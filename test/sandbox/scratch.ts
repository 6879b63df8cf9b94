import { afterEach, beforeEach } from 'vitest';
import pg from 'pg';
import { createScratchDatabase, dropDatabase, scratchDatabaseName } from '../../src/sandbox/createDatabase.js';

export const ADMIN_URL = process.env.SANDBOX_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface Scratch {
  name: string;
  url: string;
  client: pg.Client;
}

/** Gives every test in the calling file its own empty database, dropped afterwards. */
export function useScratchDatabase(): () => Scratch {
  let current: Scratch | undefined;
  beforeEach(async () => {
    const name = scratchDatabaseName('sandbox_test');
    const url = await createScratchDatabase(ADMIN_URL, name);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    current = { name, url, client };
  });
  afterEach(async () => {
    if (!current) return;
    const { name, client } = current;
    current = undefined;
    await client.end().catch(() => undefined);
    await dropDatabase(ADMIN_URL, name);
  });
  return () => {
    if (!current) throw new Error('scratch database is only available inside a test');
    return current;
  };
}

export async function count(client: pg.ClientBase, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM (${sql}) AS q`, params);
  return Number(rows[0]?.n);
}
