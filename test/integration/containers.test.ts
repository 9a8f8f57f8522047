// The container lifecycle on the real Docker engine: what signup creates, read back with inspect,
// and how login, restart and parallel requests behave.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { containerLogs, createTestNetwork, dockerClient } from '../helpers/docker.js';
import { csrfFrom, expectRedirect, logIn, signUp } from '../helpers/http.js';
import { TEST_IMAGE } from '../helpers/testImage.js';

const runId = inject('runId');
const docker = dockerClient();
let t: TestApp;
let network: string;

const nameOf = async (username: string) => {
  const user = await t.services.users.findByUsername(username);
  if (!user) throw new Error(`no user ${username}`);
  return `${t.config.containers.namePrefix}-${username}-${user.id}`;
};
const inspect = (name: string) => docker.getContainer(name).inspect();

/** Fetches a page from a container over the test network, from the host (bridge IPs are local). */
async function fetchFromContainer(name: string, path = '/'): Promise<string> {
  const info = await inspect(name);
  const ip = info.NetworkSettings.Networks[network]?.IPAddress;
  if (!ip) throw new Error(`${name} has no address on ${network}`);
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const response = await fetch(`http://${ip}:8080${path}`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return await response.text();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer on ${ip}:8080`);
}

beforeAll(async () => {
  network = await createTestNetwork(runId, `spawner-test-${runId}-containers`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, BASE_DOMAIN: 'apps.example.test' } });
});

afterAll(() => t?.close());

describe('signup on the real engine', () => {
  it('when alice signs up, then her container runs with exactly the expected name, labels, env, network, limits and restart policy', async () => {
    expectRedirect(await signUp(request.agent(t.app), { username: 'alice' }), '/dashboard');
    const name = await nameOf('alice');
    onTestFailed(async () => console.error(await containerLogs(name)));
    const user = (await t.services.users.findByUsername('alice'))!;
    const info = await inspect(name);

    expect(info.Name).toBe(`/${name}`);
    expect(info.Id).toBe(user.containerId);
    expect(user.containerName).toBe(name);
    expect(info.State.Running).toBe(true);
    expect(info.Config.Image).toBe(TEST_IMAGE);
    const { ['spawner.spec_hash']: hash, ...labels } = info.Config.Labels;
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(labels).toEqual({
      'spawner.test-run': runId,
      'traefik.enable': 'true',
      'traefik.docker.network': network,
      [`traefik.http.routers.${name}.rule`]: 'Host(`alice.apps.example.test`)',
      [`traefik.http.routers.${name}.entrypoints`]: 'web',
      // Only the owner gets in: Traefik asks Spawner first (forwardAuth, defined on Spawner's container).
      [`traefik.http.routers.${name}.middlewares`]: 'spawner-auth@docker',
      [`traefik.http.routers.${name}.service`]: name,
      [`traefik.http.services.${name}.loadbalancer.server.port`]: '8080',
      'spawner.managed': 'true',
      'spawner.user_id': String(user.id),
      'spawner.username': 'alice',
    });
    expect(info.Config.Env).toEqual(
      expect.arrayContaining([
        'SPAWNER_USER=alice',
        `SPAWNER_USER_ID=${user.id}`,
        'SPAWNER_PUBLIC_URL=http://alice.apps.example.test/',
        'SPAWNER_BASE_PATH=/',
      ]),
    );
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([network]);
    expect(info.HostConfig.NetworkMode).toBe(network);
    expect(info.HostConfig.Memory).toBe(512 * 1024 * 1024);
    expect(info.HostConfig.CpuQuota).toBe(50000);
    expect(info.HostConfig.CpuPeriod).toBe(100000);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    expect(await fetchFromContainer(name)).toContain('Hello alice');
  });

  it('when the dashboard is opened, then it shows the state Docker reports and the service URL', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'dash' }), '/dashboard');
    const page = await agent.get('/dashboard');
    expect(page.text).toContain('data-state="running"');
    // The link keeps the port the browser used to reach Spawner (here supertest's loopback port).
    expect(page.text).toMatch(/href="http:\/\/dash\.apps\.example\.test(:\d+)?\/"/);
    expect(page.text).toContain(await nameOf('dash'));
    await docker.getContainer(await nameOf('dash')).stop({ t: 0 });
    // The dashboard follows Docker's event stream: the stop shows within a second.
    let after = await agent.get('/dashboard');
    for (let i = 0; i < 50 && !after.text.includes('data-state="stopped"'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await agent.get('/dashboard');
    }
    expect(after.text).toContain('data-state="stopped"');
    expect(after.text).toContain('Start my container');
  });
});

describe('login and restart', () => {
  it('when the container was removed, then login creates it again', async () => {
    expectRedirect(await signUp(request.agent(t.app), { username: 'bob' }), '/dashboard');
    const name = await nameOf('bob');
    const first = await inspect(name);
    await docker.getContainer(name).remove({ force: true });
    expectRedirect(await logIn(request.agent(t.app), { username: 'bob' }), '/dashboard');
    const second = await inspect(name);
    expect(second.Id).not.toBe(first.Id);
    expect(second.State.Running).toBe(true);
    expect((await t.services.users.findByUsername('bob'))?.containerId).toBe(second.Id);
  });

  it('when the container was stopped, then login starts the same one', async () => {
    expectRedirect(await signUp(request.agent(t.app), { username: 'stoppy' }), '/dashboard');
    const name = await nameOf('stoppy');
    const first = await inspect(name);
    await docker.getContainer(name).stop({ t: 0 });
    expectRedirect(await logIn(request.agent(t.app), { username: 'stoppy' }), '/dashboard');
    const second = await inspect(name);
    expect(second.Id).toBe(first.Id);
    expect(second.State.Running).toBe(true);
  });

  it('when restart is pressed, then the container has a new start time and the dashboard says so', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'resty' }), '/dashboard');
    const name = await nameOf('resty');
    const before = (await inspect(name)).State.StartedAt;
    const token = csrfFrom((await agent.get('/dashboard')).text);
    expectRedirect(await agent.post('/container/restart').type('form').send({ _csrf: token }), '/dashboard');
    const after = await inspect(name);
    expect(after.State.Running).toBe(true);
    expect(new Date(after.State.StartedAt).getTime()).toBeGreaterThan(new Date(before).getTime());
    expect((await agent.get('/dashboard')).text).toContain('Your container was restarted.');
  });

  it('when 20 ensure-running calls for one person arrive at once, then exactly one container exists', async () => {
    const user = await t.services.users.create({ username: 'parallel', email: 'parallel@example.com', passwordHash: 'x' });
    const results = await Promise.all(Array.from({ length: 20 }, () => t.services.containers.ensureRunning(user)));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.every((r) => r.state === 'running')).toBe(true);
    const found = await docker.listContainers({
      all: true,
      filters: { label: [`spawner.user_id=${user.id}`, `spawner.test-run=${runId}`] },
    });
    const parallelName = await nameOf('parallel');
    expect(found.filter((c) => c.Names.includes(`/${parallelName}`))).toHaveLength(1);
  });

  it('when two app instances (two processes) race to create the same container, then one container results and neither fails', async () => {
    const second = buildTestApp({
      runId,
      dir: t.dir,
      env: { TRAEFIK_NETWORK: network, BASE_DOMAIN: 'apps.example.test', CONTAINER_NAME_PREFIX: t.config.containers.namePrefix },
    });
    try {
      const user = await t.services.users.create({ username: 'racer', email: 'racer@example.com', passwordHash: 'x' });
      const [a, b] = await Promise.all([t.services.containers.ensureRunning(user), second.services.containers.ensureRunning(user)]);
      expect(a.id).toBe(b.id);
      expect(a.state).toBe('running');
    } finally {
      await second.database.close();
    }
  });
});

describe('when Docker refuses', () => {
  it('when the template image is missing, then signup still creates the account and the dashboard explains', async () => {
    const broken = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, USER_TEMPLATE_IMAGE: 'spawner-test-no-such-image:latest' } });
    try {
      const agent = request.agent(broken.app);
      expectRedirect(await signUp(agent, { username: 'noimage' }), '/dashboard');
      expect(await broken.services.users.findByUsername('noimage')).toBeDefined();
      const page = await agent.get('/dashboard');
      expect(page.status).toBe(200);
      expect(page.text).toContain('The template image');
      expect(page.text).toContain('spawner-test-no-such-image:latest');
      expect(page.text).toContain('data-state="missing"');
      expect(page.text).toContain('Start my container');
    } finally {
      await broken.close();
    }
  });

  it('when the network does not exist, then the person is told and no container is left behind', async () => {
    const broken = buildTestApp({ runId, env: { TRAEFIK_NETWORK: `spawner-test-${runId}-missing-net` } });
    try {
      const agent = request.agent(broken.app);
      expectRedirect(await signUp(agent, { username: 'nonet' }), '/dashboard');
      const page = await agent.get('/dashboard');
      expect(page.text).toContain('does not exist');
      const user = (await broken.services.users.findByUsername('nonet'))!;
      const leftovers = await docker.listContainers({
        all: true,
        filters: { name: [`${broken.config.containers.namePrefix}-nonet-${user.id}`] },
      });
      expect(leftovers).toHaveLength(0);
    } finally {
      await broken.close();
    }
  });
});
