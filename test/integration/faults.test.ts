// Faults (issue 5, point 9): Docker gone or stuck while someone presses the buttons, and the real
// server process killed with SIGKILL in the middle of signups and started again. A damaged or
// locked database file at start-up: database-faults.test.ts. /health and the dashboard during an
// outage: health.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { buildTestApp, uniquePrefix, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient, removeTestResources, scopeLabels, TEST_FILE_LABEL } from '../helpers/docker.js';
import { DockerProxy } from '../helpers/dockerProxy.js';
import { watchDockerEvents } from '../helpers/dockerEvents.js';
import { csrfFrom, expectRedirect, logIn, signUp } from '../helpers/http.js';
import { ServerProcess } from '../helpers/serverProcess.js';
import { TEST_IMAGE } from '../helpers/testImage.js';

const runId = inject('runId');
const docker = dockerClient();
const FILE = 'faults';
/** Tests that start real server processes: each start costs seconds of CPU on a shared machine. */
const PROCESS_TEST_TIMEOUT_MS = 150_000;
const dir = mkdtempSync(join(tmpdir(), 'spawner-faults-'));
const servers: ServerProcess[] = [];
let network: string;

beforeAll(async () => {
  network = await createTestNetwork(runId, `spawner-test-${runId}-${FILE}`);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  await removeTestResources(runId, FILE);
  rmSync(dir, { recursive: true, force: true });
});

describe('when Docker is unreachable or stuck while a person uses the buttons', () => {
  const proxy = new DockerProxy();
  let t: TestApp;

  beforeAll(async () => {
    await proxy.start();
    t = buildTestApp({
      runId,
      env: { TRAEFIK_NETWORK: network, DOCKER_HOST: proxy.url, DOCKER_TIMEOUT: '2s', CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE) },
    });
  });

  afterAll(async () => {
    await t?.close();
    await proxy.stop();
  });

  it('when Docker is gone, then restart and start answer with a readable message and no 5xx; when it is back, restart works', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'presser' }), '/dashboard');
    const name = (await t.services.users.findByUsername('presser'))!.containerName!;
    const before = (await docker.getContainer(name).inspect()).State.StartedAt;

    await proxy.stop();
    for (const button of ['/container/restart', '/container/start']) {
      const token = csrfFrom((await agent.get('/dashboard')).text);
      const response = await agent.post(button).type('form').send({ _csrf: token });
      expectRedirect(response, '/dashboard');
      const page = await agent.get('/dashboard');
      expect(page.status, button).toBe(200);
      expect(page.text, button).toContain('flash-error');
      expect(page.text, button).toContain('The container engine is not reachable right now');
    }

    await proxy.start();
    const token = csrfFrom((await agent.get('/dashboard')).text);
    expectRedirect(await agent.post('/container/restart').type('form').send({ _csrf: token }), '/dashboard');
    expect((await agent.get('/dashboard')).text).toContain('Your container was restarted.');
    const after = await docker.getContainer(name).inspect();
    expect(after.State.Running).toBe(true);
    expect(new Date(after.State.StartedAt).getTime()).toBeGreaterThan(new Date(before).getTime());
  });

  it('when Docker hangs, then login and restart answer within the Docker timeout with a readable message', async () => {
    const hanging = new DockerProxy();
    await hanging.start('hang');
    const stuck = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, DOCKER_HOST: hanging.url, DOCKER_TIMEOUT: '1s' } });
    try {
      await stuck.services.accounts.signUp({ username: 'stuck', email: 'stuck@example.com', password: 'correct horse battery' });
      const agent = request.agent(stuck.app);
      let started = Date.now();
      expectRedirect(await logIn(agent, { username: 'stuck' }), '/dashboard');
      expect(Date.now() - started).toBeLessThan(10_000);
      const token = csrfFrom((await agent.get('/dashboard')).text);
      started = Date.now();
      const response = await agent.post('/container/restart').type('form').send({ _csrf: token });
      expectRedirect(response, '/dashboard');
      expect(Date.now() - started).toBeLessThan(10_000);
      const page = await agent.get('/dashboard');
      expect(page.status).toBe(200);
      expect(page.text).toContain('flash-error');
      expect(page.text).toContain('not reachable');
    } finally {
      await stuck.close();
      await hanging.stop();
    }
  });
});

describe('when Spawner is killed with SIGKILL during signups and started again', () => {
  const prefix = uniquePrefix();
  const databasePath = join(dir, 'killed', 'spawner.db');
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    SECRET_KEY: 'test-secret-key-that-is-long-enough-0123456789',
    LOG_LEVEL: 'info',
    BASE_DOMAIN: 'spawner.test',
    BCRYPT_COST: '4',
    DATABASE_PATH: databasePath,
    USER_TEMPLATE_IMAGE: TEST_IMAGE,
    CONTAINER_NAME_PREFIX: prefix,
    CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE),
    RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
    RATE_LIMIT_SIGNUP_PER_HOUR: '1000',
  };
  const attempted: string[] = [];

  async function startServer(): Promise<ServerProcess> {
    const server = await ServerProcess.start({ ...env, TRAEFIK_NETWORK: network });
    servers.push(server);
    await server.ready();
    return server;
  }

  /** Posts the signup form without waiting for the answer; `sent` resolves once it is on the wire. */
  async function sendSignup(server: ServerProcess, username: string): Promise<{ sent: Promise<void> }> {
    attempted.push(username);
    const form = await fetch(`${server.url}/signup`);
    const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const body = new URLSearchParams({
      _csrf: csrfFrom(await form.text()),
      username,
      email: `${username}@example.com`,
      password: 'correct horse battery',
    }).toString();
    const sent = new Promise<void>((resolve) => {
      const req = httpRequest(`${server.url}/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), cookie },
      });
      req.on('error', () => undefined); // the server dies under it: expected
      req.on('response', (res) => res.resume());
      req.end(body, () => resolve());
    });
    return { sent };
  }

  /** What the database and Docker hold for one person right after a kill, before any restart. */
  async function observe(username: string): Promise<string> {
    const database = new Database(databasePath, { readonly: true, fileMustExist: true });
    const row = database.prepare('SELECT id, container_id FROM users WHERE username = ?').get(username) as
      { id: number; container_id: string | null } | undefined;
    database.close();
    const [container] = await docker.listContainers({ all: true, filters: { name: [`^/${prefix}-${username}-`] } });
    return `${username}: ${row ? 'account' : 'no account'}, ${container ? `container ${container.State}` : 'no container'}, ${row?.container_id ? 'recorded' : 'not recorded'}`;
  }

  it(
    'when killed at several points of a spawn, then after a restart every account is whole or absent, with exactly one container matching the database',
    async () => {
      const events = await watchDockerEvents(prefix);
      try {
        // 1. Right after the request is on the wire.
        let server = await startServer();
        const { sent } = await sendSignup(server, 'ksent');
        await sent;
        expect((await server.kill()).signal).toBe('SIGKILL');
        const observed = [await observe('ksent')];

        // 2. After the account row, when the data volume has been created but no container yet.
        server = await startServer();
        await sendSignup(server, 'kvolume');
        await events.next('volume', 'create', 'kvolume');
        await server.kill();
        observed.push(await observe('kvolume'));

        // 3. Right after Docker created the container, before Spawner started it.
        server = await startServer();
        await sendSignup(server, 'kcreate');
        await events.next('container', 'create', 'kcreate');
        await server.kill();
        observed.push(await observe('kcreate'));

        // 4. Right after the container started, before Spawner recorded it.
        server = await startServer();
        await sendSignup(server, 'kstart');
        await events.next('container', 'start', 'kstart');
        await server.kill();
        observed.push(await observe('kstart'));

        // 5. Five people at once, killed when the second container exists: the others are mid-way.
        server = await startServer();
        await Promise.all(['kburst0', 'kburst1', 'kburst2', 'kburst3', 'kburst4'].map((u) => sendSignup(server, u)));
        await events.next('container', 'create', 'kburst', 2);
        await server.kill();
        for (let i = 0; i < 5; i++) observed.push(await observe(`kburst${i}`));
        // The kills really fell in the middle: accounts whose container Spawner never got to record.
        expect(
          observed.filter((o) => o.includes(': account,') && o.endsWith('not recorded')).length,
          observed.join('\n'),
        ).toBeGreaterThanOrEqual(3);

        // Started again: every person logs in (or, if the account never made it, signs up again).
        server = await startServer();
        const database = new Database(databasePath, { readonly: true, fileMustExist: true });
        try {
          const rowOf = (username: string) =>
            database.prepare('SELECT id, email, container_id FROM users WHERE username = ?').get(username) as
              { id: number; email: string; container_id: string | null } | undefined;
          for (const username of attempted) {
            const agent = request.agent(server.url);
            const existed = rowOf(username) !== undefined;
            const response = existed ? await logIn(agent, { username }) : await signUp(agent, { username });
            expectRedirect(response, '/dashboard');
            // Logging in with the password worked, so the row is whole; or it was never written.
            const row = rowOf(username);
            expect(row, username).toBeDefined();
            expect(row!.email).toBe(`${username}@example.com`);
            const containers = await docker.listContainers({
              all: true,
              filters: {
                label: [`spawner.test-run=${runId}`, `${TEST_FILE_LABEL}=${FILE}`, `spawner.user_id=${row!.id}`],
                name: [`^/${prefix}-`],
              },
            });
            expect(
              containers.map((c) => c.Names[0]),
              username,
            ).toEqual([`/${prefix}-${username}-${row!.id}`]);
            expect(containers[0]?.State, username).toBe('running');
            expect(row!.container_id, username).toBe(containers[0]?.Id);
          }
          // Nothing Docker holds for this server belongs to nobody, and no name has two rows.
          const rows = database.prepare('SELECT id, username FROM users').all() as { id: number; username: string }[];
          expect(rows.map((r) => r.username).sort()).toEqual([...attempted].sort());
          const all = await docker.listContainers({
            all: true,
            filters: { label: [`${TEST_FILE_LABEL}=${FILE}`, `spawner.test-run=${runId}`] },
          });
          const ours = all.filter((c) => c.Names[0]?.startsWith(`/${prefix}-`));
          expect(ours.map((c) => c.Labels['spawner.username']).sort()).toEqual([...attempted].sort());
          for (const c of ours)
            expect(rows.find((r) => String(r.id) === c.Labels['spawner.user_id'])?.username).toBe(c.Labels['spawner.username']);
        } finally {
          database.close();
        }
        expect((await server.kill('SIGTERM')).code).toBe(0);
        const check = new Database(databasePath, { readonly: true });
        expect(check.pragma('quick_check', { simple: true })).toBe('ok');
        check.close();
      } finally {
        events.close();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
