import { randomBytes } from 'node:crypto';
import pg from 'pg';

// Identifiers cannot be bound as parameters, so names are restricted to a
// charset that needs no quoting and cannot inject SQL (and to PostgreSQL's 63 bytes).
const SAFE_NAME = /^[a-z0-9_]+$/;

function assertSafeName(name: string): void {
  if (!SAFE_NAME.test(name) || name.length > 63) {
    throw new Error(`invalid database name ${JSON.stringify(name)}: use 1-63 characters of [a-z0-9_]`);
  }
}

/** A unique name such as `sandbox_3f9a1c7e`, for one test's own database. */
export function scratchDatabaseName(prefix = 'sandbox'): string {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  assertSafeName(name);
  return name;
}

/** The admin URL with its database replaced by `name` (credentials and options kept). */
export function databaseUrlFor(adminUrl: string, name: string): string {
  assertSafeName(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates database `name` and returns its URL. */
export async function createScratchDatabase(adminUrl: string, name: string): Promise<string> {
  assertSafeName(name);
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  return databaseUrlFor(adminUrl, name);
}

/** Drops database `name` if it exists, disconnecting any sessions still attached to it. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  assertSafeName(name);
  await withAdmin(adminUrl, async (c) => {
    const { rows } = await c.query<{ db: string }>('SELECT current_database() AS db');
    if (rows[0]?.db === name) throw new Error(`refusing to drop ${name}: it is the admin connection's database`);
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}
