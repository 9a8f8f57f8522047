// The PostgreSQL side of the tests: where the test server is (scripts/start-postgres.sh writes
// its URL), and a fresh database per test app, copied from a template that the run's global setup
// migrated with the production migrations. Every database of a run is named spawner_t_<run>_…,
// so the run's teardown drops exactly its own.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** True in the vitest project that runs the suites on PostgreSQL (TEST_DATABASE=postgres). */
export const usingPostgres = (): boolean => process.env.TEST_DATABASE === 'postgres';

const URL_FILE =
  process.env.SPAWNER_TEST_DATABASE_URL_FILE ??
  join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'spawner', 'test-database-url');

/** A URL on the test server with the given database (the role may create and drop databases). */
export function testDatabaseUrl(database = 'postgres'): string {
  let base = process.env.TEST_DATABASE_URL;
  if (!base && existsSync(URL_FILE)) base = readFileSync(URL_FILE, 'utf8').trim();
  if (!base)
    throw new Error(
      `The PostgreSQL tests need a server: run scripts/start-postgres.sh as root (it writes ${URL_FILE}), or set TEST_DATABASE_URL.`,
    );
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

export const templateDatabase = (runId: string): string => `spawner_t_${runId}_template`;

/** The database a test app at `dir` uses: the same dir (a restart over the same data) → the same database. */
export const databaseFor = (runId: string, dir: string): string =>
  `spawner_t_${runId}_${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`;

/**
 * One SQL statement through psql, synchronously: buildTestApp is synchronous (as SQLite is), and
 * creating a database from a template is the one step it needs before the pool's first query.
 * The password goes through the environment, never the command line.
 */
export function psqlSync(sql: string): string {
  const url = new URL(testDatabaseUrl());
  return execFileSync('psql', ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    env: {
      PATH: process.env.PATH,
      PGHOST: url.hostname,
      PGPORT: url.port || '5432',
      PGUSER: decodeURIComponent(url.username),
      PGPASSWORD: decodeURIComponent(url.password),
      PGDATABASE: 'postgres',
      PGCONNECT_TIMEOUT: '10',
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
}

/** Copies the run's migrated template into `name`; with `reuse`, an existing one is kept as it is. */
export function createTestDatabase(runId: string, name: string, options: { reuse?: boolean } = {}): void {
  if (options.reuse && psqlSync(`SELECT 1 FROM pg_database WHERE datname = '${name}'`).trim() === '1') return;
  psqlSync(`CREATE DATABASE "${name}" TEMPLATE "${templateDatabase(runId)}"`);
}

/** Runs one statement on the server's maintenance database, on a connection of its own. */
export async function adminQuery(sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: testDatabaseUrl(), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function dropTestDatabase(name: string): Promise<void> {
  // FORCE: a connection a failed test left open must not keep the database alive.
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** Drops every database of the run (teardown; also catches those of files that crashed). */
export async function dropRunDatabases(runId: string): Promise<void> {
  const { rows } = await adminQuery(`SELECT datname FROM pg_database WHERE datname LIKE 'spawner\\_t\\_${runId}\\_%'`);
  for (const { datname } of rows as { datname: string }[]) await dropTestDatabase(datname);
}

/** A SQLite-style statement (`?` placeholders) for PostgreSQL (`$1`, `$2`, …). */
export const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${(n += 1)}`);
};

/** Reads bigints (count(*), epoch-ms columns) as numbers, as SQLite hands them to the tests. */
export const numericTypes = {
  getTypeParser: (oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text'),
};
