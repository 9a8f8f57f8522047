// Builds a Spawner app for a test: a fresh SQLite file migrated by the production migrations, the
// real wiring, and either the real Docker engine or a given fake.
import { mkdtempSync, rmSync } from 'node:fs';
import { inject } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openSqliteStores, type SqliteStores } from '../../src/db/sqlite/stores.js';
import { createDockerClient, DockerodeEngine, type DockerEngine } from '../../src/containers/docker/engine.js';
import { createServices, type Services } from '../../src/wiring.js';
import { createApp } from '../../src/app.js';
import { TEST_IMAGE } from './testImage.js';
import { TEST_RUN_LABEL } from './docker.js';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  services: Services;
  /** The stores the app runs on; `sqlite` lets a test look at the file directly. */
  database: SqliteStores;
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
  const config = loadConfig(testEnv({ CONTAINER_EXTRA_LABELS: extraLabels, ...options.env }, dir));
  const logger = createLogger({
    level: options.logDestination ? 'debug' : config.logLevel,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const database = openSqliteStores(config.databasePath);
  const engine = options.engine ?? new DockerodeEngine(createDockerClient(config.docker));
  const services = createServices({ config, stores: database, engine, logger, sessionSecret: config.secretKey ?? 'x'.repeat(32) });
  const app = createApp(services);
  // Like server.ts: statuses come from the engine's event stream once it is connected.
  services.state.start();
  return {
    app,
    services,
    database,
    config,
    dir,
    async close() {
      services.state.stop();
      await database.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A person's account, and the name Spawner gives their container: `<prefix>-<username>-<id>`. */
export async function containerOf(t: TestApp, username: string) {
  const user = await t.services.users.findByUsername(username);
  if (!user) throw new Error(`no user ${username}`);
  return { user, name: `${t.config.containers.namePrefix}-${username}-${user.id}` };
}
