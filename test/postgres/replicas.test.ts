// Two real Spawner processes (src/server.ts under tsx) on one PostgreSQL database and the real
// Docker engine, as two replicas behind Traefik would be: one person's logins split across both
// end with one container (the per-person advisory lock), exactly one of them sweeps (the leader),
// the other takes over when the leader is SIGKILLed, and a session made on one is good on the other.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createTestNetwork, dockerClient, removeTestResources, scopeLabels, TEST_FILE_LABEL } from '../helpers/docker.js';
import { uniquePrefix } from '../helpers/app.js';
import { FormClient } from '../helpers/formClient.js';
import { ServerProcess } from '../helpers/serverProcess.js';
import { TEST_IMAGE } from '../helpers/testImage.js';
import { adminQuery, dropTestDatabase, testDatabaseUrl } from '../helpers/postgres.js';

const runId = inject('runId');
const FILE = 'replicas';
const SWEEP_MS = 2000;
const docker = dockerClient();
const dir = mkdtempSync(join(tmpdir(), 'spawner-replicas-'));
const database = `spawner_t_${runId}_replicas`;
const servers: ServerProcess[] = [];
let a: ServerProcess;
let b: ServerProcess;

const isLeaderLine = (line: Record<string, unknown>) => line.msg === 'this replica is now the leader';
const sweeps = (server: ServerProcess) => server.logLines().filter((line) => line.msg === 'idle sweep finished');

async function userId(username: string): Promise<number> {
  const client = new pg.Client({ connectionString: testDatabaseUrl(database) });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [username]);
    return rows[0]!.id;
  } finally {
    await client.end();
  }
}

const containersOf = (id: number) =>
  docker.listContainers({
    all: true,
    filters: { label: [`spawner.test-run=${runId}`, `${TEST_FILE_LABEL}=${FILE}`, `spawner.user_id=${id}`] },
  });

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-${FILE}`);
  await adminQuery(`CREATE DATABASE "${database}"`);
  const env = {
    NODE_ENV: 'test',
    SECRET_KEY: 'replicas-test-secret-key-0123456789abcdef',
    LOG_LEVEL: 'debug',
    BASE_DOMAIN: 'replicas.test',
    DATABASE_URL: testDatabaseUrl(database),
    TRAEFIK_NETWORK: network,
    USER_TEMPLATE_IMAGE: TEST_IMAGE,
    CONTAINER_NAME_PREFIX: uniquePrefix(),
    CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE),
    IDLE_SWEEP_INTERVAL: `${SWEEP_MS}ms`,
    RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
    RATE_LIMIT_SIGNUP_PER_HOUR: '1000',
    BCRYPT_COST: '4',
  };
  // Both start at once on an empty database: they also race to migrate it.
  [a, b] = await Promise.all([ServerProcess.start(env), ServerProcess.start(env)]);
  servers.push(a, b);
  await Promise.all([a.ready(60_000), b.ready(60_000)]);
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  await removeTestResources(runId, FILE);
  await dropTestDatabase(database);
  rmSync(dir, { recursive: true, force: true });
});

it('when both replicas run, then exactly one is the leader and only it runs the idle sweep', async () => {
  const leader = await Promise.race([a.waitForLog(isLeaderLine, 15_000).then(() => a), b.waitForLog(isLeaderLine, 15_000).then(() => b)]);
  const follower = leader === a ? b : a;
  // Several sweep intervals: the leader sweeps every time, the follower never.
  await new Promise((r) => setTimeout(r, SWEEP_MS * 3 + 500));
  expect(sweeps(leader).length).toBeGreaterThanOrEqual(2);
  expect(sweeps(follower)).toHaveLength(0);
  expect(follower.logLines().filter(isLeaderLine)).toHaveLength(0);
});

it('when one person logs in 20 times at once, split across both replicas, then exactly one container exists and runs', async () => {
  const signup = new FormClient(a.url);
  expect((await signup.signUp('split')).location).toMatch(/\/dashboard$/);
  const id = await userId('split');
  // Remove the container signup made, so all 20 logins race to create it again.
  for (const c of await containersOf(id)) await docker.getContainer(c.Id).remove({ force: true });
  expect(await containersOf(id)).toHaveLength(0);
  const logsBefore = { a: a.logLines().length, b: b.logLines().length };

  const clients = Array.from({ length: 20 }, (_, i) => new FormClient((i % 2 === 0 ? a : b).url));
  // The CSRF pages first, so that the 20 posts leave together.
  const tokens = await Promise.all(clients.map((c) => c.csrfToken('/login')));
  const responses = await Promise.all(
    clients.map((c, i) => c.postForm('/login', { _csrf: tokens[i]!, username: 'split', password: 'correct horse battery' })),
  );

  expect(responses.map((r) => r.status).filter((s) => s >= 400)).toEqual([]);
  for (const response of responses) expect(response.location).toMatch(/\/dashboard$/);
  const found = await containersOf(id);
  expect(found).toHaveLength(1);
  expect(found[0]?.State).toBe('running');
  // Docker's unique names alone would also leave one container, after a lost race (a 409): with
  // the lock, the replica that waited inspects afresh and never tries to create it a second time.
  const name = found[0]!.Names[0]!.replace(/^\//, '');
  const since = [...a.logLines().slice(logsBefore.a), ...b.logLines().slice(logsBefore.b)];
  const about = (msg: string) => since.filter((line) => line.msg === msg && line.container === name);
  expect(about('container created')).toHaveLength(1);
  expect(about('container already created concurrently')).toHaveLength(0);
});

it('when a person signs up on one replica, then the session is valid on the other', async () => {
  const onA = new FormClient(a.url);
  expect((await onA.signUp('roamer')).location).toMatch(/\/dashboard$/);
  const page = await fetch(`${b.url}/dashboard`, { headers: { cookie: onA.cookieHeader() }, redirect: 'manual' });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('roamer');
  const anonymous = await fetch(`${b.url}/dashboard`, { redirect: 'manual' });
  expect(anonymous.status).toBe(303);
});

it('when the leader is killed with SIGKILL, then the other becomes the leader within one sweep interval and runs the next sweep', async () => {
  const leader = a.logLines().some(isLeaderLine) ? a : b;
  const follower = leader === a ? b : a;
  expect(sweeps(follower)).toHaveLength(0);
  const killedAt = Date.now();
  await leader.kill('SIGKILL');
  await follower.waitForLog(isLeaderLine, SWEEP_MS * 3);
  const tookOver = Date.now() - killedAt;
  await follower.waitForLog((line) => line.msg === 'idle sweep finished', SWEEP_MS * 3);
  const swept = Date.now() - killedAt;
  console.info(`replicas: leader SIGKILLed, follower led after ${tookOver} ms and swept after ${swept} ms (sweep interval ${SWEEP_MS} ms)`);
  // One interval, plus a second of slack for a busy shared machine.
  expect(tookOver).toBeLessThan(SWEEP_MS + 1000);
});
