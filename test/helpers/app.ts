// Builds a Spawner app for a test: a fresh database migrated by the production migrations (a
// SQLite file, or with TEST_DATABASE=postgres a PostgreSQL database copied from the run's migrated
// template), the real wiring, and either the real Docker engine or a given fake.
import { mkdtempSync, rmSync } from 'node:fs';
import { inject } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openSqliteStores } from '../../src/db/sqlite/stores.js';
import { createPool } from '../../src/db/pg/database.js';
import { pgStoresOnPool } from '../../src/db/pg/stores.js';
import type { Stores } from '../../src/db/stores.js';
import { createTestDatabase, databaseFor, dropTestDatabase, numbered, numericTypes, testDatabaseUrl, usingPostgres } from './postgres.js';
import { createDockerClient, DockerodeEngine, type DockerEngine } from '../../src/containers/docker/engine.js';
import { createServices, type Services } from '../../src/wiring.js';
import { createApp } from '../../src/app.js';
import { TEST_IMAGE } from './testImage.js';
import { TEST_RUN_LABEL } from './docker.js';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  services: Services;
  /** The stores the app runs on (SQLite or PostgreSQL: tests do not care which). */
  database: Stores;
  /**
   * Looks at (or changes) the database directly, on either dialect: SQL both understand, `?`
   * placeholders, numbers as numbers (PostgreSQL's bigints too), TRUE/FALSE for booleans.
   */
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  config: Readonly<Config>;
  dir: string;
  close(): Promise<void>;
}

/** A unique container-name prefix per test app, so parallel files never share names. */
export function uniquePrefix(): string {
  return `t${randomBytes(3).toString('hex')}`;
}

export function testEnv(overrides: Record<string, string | undefined> = {}, dir?: string): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    SECRET_KEY: 'test-secret-key-that-is-long-enough-0123456789',
    BASE_DOMAIN: 'spawner.test',
    BCRYPT_COST: '4',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    USER_TEMPLATE_IMAGE: TEST_IMAGE,
    CONTAINER_NAME_PREFIX: uniquePrefix(),
    DATABASE_PATH: join(dir ?? mkdtempSync(join(tmpdir(), 'spawner-test-')), 'spawner.db'),
    RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
    RATE_LIMIT_SIGNUP_PER_HOUR: '1000',
    ...overrides,
  };
}

export function buildTestApp(
  options: {
    env?: Record<string, string | undefined>;
    engine?: DockerEngine;
    runId?: string;
    dir?: string;
    /** Receives every log line (JSON), e.g. to check what is and is not logged. */
    logDestination?: { write(line: string): void };
  } = {},
): TestApp {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'spawner-test-'));
  // Every container a test app creates carries the run's label, so the run's teardown removes it.
  const runId = options.runId ?? inject('runId');
  const extraLabels = `${TEST_RUN_LABEL}=${runId}`;
  // On PostgreSQL the config names the database too, as a real start-up's would.
  const databaseUrl = usingPostgres() ? { DATABASE_URL: testDatabaseUrl(databaseFor(runId, dir)) } : {};
  const config = loadConfig(testEnv({ CONTAINER_EXTRA_LABELS: extraLabels, ...databaseUrl, ...options.env }, dir));
  const logger = createLogger({
    level: options.logDestination ? 'debug' : config.logLevel,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const { database, query, drop } = usingPostgres() ? postgresStores(runId, dir, !options.dir) : sqliteStores(config.databasePath);
  const engine = options.engine ?? new DockerodeEngine(createDockerClient(config.docker));
  const services = createServices({ config, stores: database, engine, logger, sessionSecret: config.secretKey ?? 'x'.repeat(32) });
  const app = createApp(services);
  // Like server.ts: statuses come from the engine's event stream once it is connected.
  services.state.start();
  return {
    app,
    services,
    database,
    query,
    config,
    dir,
    async close() {
      services.state.stop();
      await database.close();
      await drop();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface TestStores {
  database: Stores;
  query: TestApp['query'];
  /** Removes the database when this app made it (the dir's owner removes the dir too). */
  drop(): Promise<void>;
}

function sqliteStores(path: string): TestStores {
  const database = openSqliteStores(path);
  return {
    database,
    query: async <T>(sql: string, ...params: unknown[]) => {
      const statement = database.sqlite.prepare(sql);
      // A statement without rows (UPDATE, DELETE) answers [] as on PostgreSQL.
      if (!statement.reader) return statement.run(...params) && ([] as T[]);
      return statement.all(...params) as T[];
    },
    // The file goes with the test's directory.
    drop: async () => undefined,
  };
}

/**
 * A database per directory: an app given another app's `dir` (a restart over the same data) gets
 * that app's database, and only the app that made the directory drops it.
 */
function postgresStores(runId: string, dir: string, owner: boolean): TestStores {
  const name = databaseFor(runId, dir);
  createTestDatabase(runId, name, { reuse: !owner });
  // A few connections per app: a test file builds several apps, and the server allows 100 in all.
  const pool = createPool(testDatabaseUrl(name), { poolSize: 4 });
  return {
    database: pgStoresOnPool(pool),
    query: async <T>(sql: string, ...params: unknown[]) => {
      const result = await pool.query({ text: numbered(sql), values: params, types: numericTypes });
      return result.rows as T[];
    },
    drop: async () => {
      if (owner) await dropTestDatabase(name);
    },
  };
}

/** A person's account, and the name Spawner gives their container: `<prefix>-<username>-<id>`. */
export async function containerOf(t: TestApp, username: string) {
  const user = await t.services.users.findByUsername(username);
  if (!user) throw new Error(`no user ${username}`);
  return { user, name: `${t.config.containers.namePrefix}-${username}-${user.id}` };
}
