// Concurrency on the real engine (issue 5, point 8), through one real HTTP server: many people
// signing up at once, one person logging in from many tabs, and restart pressed many times.
// Each case checks the answers (no 5xx, no error page) and what Docker and the database hold.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request, { type Response } from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient, removeTestResources, scopeLabels, TEST_FILE_LABEL } from '../helpers/docker.js';
import { csrfFrom, expectRedirect, logIn, signUp } from '../helpers/http.js';

const runId = inject('runId');
const docker = dockerClient();
const FILE = 'concurrency';
let t: TestApp;
let server: Server;
let url: string;

/** This file's containers of one person (by the labels Spawner sets), running or not. */
async function containersOf(userId: number) {
  return docker.listContainers({
    all: true,
    filters: { label: [`spawner.test-run=${runId}`, `${TEST_FILE_LABEL}=${FILE}`, `spawner.user_id=${userId}`] },
  });
}

function expectNoServerError(responses: Response[]): void {
  const failed = responses.filter((r) => r.status >= 500).map((r) => `${r.status} ${r.text.slice(0, 200)}`);
  expect(failed).toEqual([]);
}

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-${FILE}`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE) } });
  // One server for all agents, as in production (supertest would start one per request).
  server = createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server?.closeAllConnections();
  await t?.close();
  await removeTestResources(runId, FILE);
});

describe('at the same moment', () => {
  it('when 30 different people sign up at once, then there are 30 accounts and 30 running containers and nobody sees an error', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `crowd${i}`);
    const agents = names.map(() => request.agent(url));

    const responses = await Promise.all(names.map((username, i) => signUp(agents[i]!, { username })));

    expectNoServerError(responses);
    for (const response of responses) expectRedirect(response, '/dashboard');
    const pages = await Promise.all(agents.map((agent) => agent.get('/dashboard')));
    for (const page of pages) {
      expect(page.status).toBe(200);
      expect(page.text).toContain('data-state="running"');
    }
    const rows = (await t.services.users.all()).filter((u) => u.username.startsWith('crowd'));
    expect(rows.map((u) => u.username).sort()).toEqual([...names].sort());
    for (const row of rows) {
      const found = await containersOf(row.id);
      expect(found, row.username).toHaveLength(1);
      expect(found[0]?.State, row.username).toBe('running');
      expect(found[0]?.Id, row.username).toBe(row.containerId);
    }
  });

  it('when one person logs in from 20 tabs at once, then exactly one container exists and runs', async () => {
    // The account exists but has no container yet, so all 20 logins race to create it.
    const user = await t.services.accounts.signUp({ username: 'tabs', email: 'tabs@example.com', password: 'correct horse battery' });
    expect(await containersOf(user.id)).toHaveLength(0);
    const agents = Array.from({ length: 20 }, () => request.agent(url));

    const responses = await Promise.all(agents.map((agent) => logIn(agent, { username: 'tabs' })));

    expectNoServerError(responses);
    for (const response of responses) expectRedirect(response, '/dashboard');
    const found = await containersOf(user.id);
    expect(found).toHaveLength(1);
    expect(found[0]?.State).toBe('running');
    expect((await t.services.users.findById(user.id))?.containerId).toBe(found[0]?.Id);
    const pages = await Promise.all(agents.map((agent) => agent.get('/dashboard')));
    for (const page of pages) {
      expect(page.status).toBe(200);
      expect(page.text).toContain('data-state="running"');
      expect(page.text).not.toContain('flash-error');
    }
  });

  it('when restart is pressed 10 times at once, then one container runs afterwards, restarted, and no answer is an error', async () => {
    const agent = request.agent(url);
    expectRedirect(await signUp(agent, { username: 'clicky' }), '/dashboard');
    const user = (await t.services.users.findByUsername('clicky'))!;
    const before = await docker.getContainer(user.containerName!).inspect();
    const token = csrfFrom((await agent.get('/dashboard')).text);

    const responses = await Promise.all(
      Array.from({ length: 10 }, () => agent.post('/container/restart').type('form').send({ _csrf: token })),
    );

    expectNoServerError(responses);
    for (const response of responses) expectRedirect(response, '/dashboard');
    const found = await containersOf(user.id);
    expect(found).toHaveLength(1);
    expect(found[0]?.State).toBe('running');
    const after = await docker.getContainer(user.containerName!).inspect();
    expect(after.Id).toBe(before.Id);
    expect(new Date(after.State.StartedAt).getTime()).toBeGreaterThan(new Date(before.State.StartedAt).getTime());
    const page = await agent.get('/dashboard');
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-state="running"');
    expect(page.text).not.toContain('flash-error');
  });
});
