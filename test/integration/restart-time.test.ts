// How long people's services are unreachable when Spawner restarts: every request to them passes
// Traefik's forwardAuth to Spawner, which answers 500 while Spawner is down. Measured on the real
// process (src/server.ts under tsx, as `npx tsx src/server.ts`): SIGTERM, start again on the same
// database, time until /.spawner/verify answers again. README quotes the figure. In the pg
// project the process runs on PostgreSQL (DATABASE_URL, an empty database it migrates itself).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, inject, it } from 'vitest';
import { createTestNetwork, TEST_RUN_LABEL } from '../helpers/docker.js';
import { uniquePrefix } from '../helpers/app.js';
import { ServerProcess } from '../helpers/serverProcess.js';
import { TEST_IMAGE } from '../helpers/testImage.js';
import { adminQuery, dropTestDatabase, testDatabaseUrl, usingPostgres } from '../helpers/postgres.js';

const runId = inject('runId');
const dir = mkdtempSync(join(tmpdir(), 'spawner-restart-'));
const pgDatabase = `spawner_t_${runId}_restart`;
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  if (usingPostgres()) await dropTestDatabase(pgDatabase);
});

it('when Spawner is restarted, then the access check answers again within 10 s (the figure is logged)', async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-restart`);
  const env = {
    NODE_ENV: 'test',
    SECRET_KEY: 'restart-test-secret-key-0123456789abcdef',
    LOG_LEVEL: 'info',
    BASE_DOMAIN: 'restart.test',
    DATABASE_PATH: join(dir, 'spawner.db'),
    TRAEFIK_NETWORK: network,
    USER_TEMPLATE_IMAGE: TEST_IMAGE,
    CONTAINER_NAME_PREFIX: uniquePrefix(),
    CONTAINER_EXTRA_LABELS: `${TEST_RUN_LABEL}=${runId}`,
  };
  const url = usingPostgres() ? testDatabaseUrl(pgDatabase) : undefined;
  if (url) {
    await adminQuery(`CREATE DATABASE "${pgDatabase}"`);
    Object.assign(env, { DATABASE_URL: url });
  }
  server = await ServerProcess.start(env);
  await server.ready();
  if (url) {
    // The real process chose PostgreSQL, and says so without the password.
    const listening = await server.waitForLog((line) => line.msg === 'spawner listening', 5_000);
    expect(listening.database).toBe(testDatabaseUrl(pgDatabase).replace(`:${new URL(url).password}@`, ':***@'));
    expect(server.stdout).not.toContain(new URL(url).password);
  }
  const stopAt = Date.now();
  await server.kill('SIGTERM');
  const down = Date.now() - stopAt;
  const startAt = Date.now();
  server = await ServerProcess.start(env);
  await server.ready();
  const up = Date.now() - startAt;
  const verify = await fetch(`${server.url}/.spawner/verify`, {
    headers: { 'X-Forwarded-Host': 'alice.restart.test', 'X-Forwarded-Uri': '/', Accept: 'application/json' },
  });
  expect(verify.status).toBe(401);
  console.info(`restart: SIGTERM to exit ${down} ms, start to serving ${up} ms, ${down + up} ms without answers`);
  expect(down + up).toBeLessThan(10_000);
});
