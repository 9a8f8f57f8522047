// Spawner on a Docker engine reached over TCP (DOCKER_HOST=tcp://…), as with a remote engine:
// against dockerd's own loopback TCP endpoint (scripts/setup-host.sh starts dockerd with
// -H tcp://127.0.0.1:2375). Through the compose file's socket proxy (Spawner's own, src/dockerProxy/):
// docker-proxy.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient } from '../helpers/docker.js';
import { expectRedirect, signUp } from '../helpers/http.js';

const runId = inject('runId');
const docker = dockerClient();
const ENGINE_TCP = 'tcp://127.0.0.1:2375';
let network: string;

async function containerOf(app: TestApp, username: string) {
  const user = await app.services.users.findByUsername(username);
  if (!user) throw new Error(`no user ${username}`);
  return { user, info: await docker.getContainer(`${app.config.containers.namePrefix}-${username}-${user.id}`).inspect() };
}

beforeAll(async () => {
  try {
    const ping = await fetch('http://127.0.0.1:2375/_ping', { signal: AbortSignal.timeout(3000) });
    if (!ping.ok) throw new Error(`HTTP ${ping.status}`);
  } catch (error) {
    throw new Error(
      `dockerd does not answer on ${ENGINE_TCP} (${(error as Error).message}). This test needs the engine to listen on ` +
        'loopback TCP as well: start dockerd with -H unix:///var/run/docker.sock -H tcp://127.0.0.1:2375 (scripts/setup-host.sh does).',
    );
  }
  network = await createTestNetwork(runId, `spawner-test-${runId}-remote`);
});

describe('DOCKER_HOST=tcp://127.0.0.1:2375', () => {
  let t: TestApp;
  beforeAll(() => {
    t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, DOCKER_HOST: ENGINE_TCP } });
  });
  afterAll(() => t?.close());

  it('when a person signs up, then their container runs, created over TCP', async () => {
    expect(t.config.docker.host).toBe(ENGINE_TCP);
    expectRedirect(await signUp(request.agent(t.app), { username: 'remote' }), '/dashboard');
    const { user, info } = await containerOf(t, 'remote');
    expect(info.State.Running).toBe(true);
    expect(info.Id).toBe(user.containerId);
    expect(info.Config.Labels).toMatchObject({ 'spawner.managed': 'true', 'spawner.username': 'remote', 'spawner.test-run': runId });
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([network]);
    expect((await request(t.app).get('/health')).body.checks).toEqual({ database: 'ok', docker: 'ok' });
  });

  it('when DOCKER_HOST names a port where no engine listens, then Spawner does not fall back to the socket', async () => {
    const nowhere = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_TIMEOUT: '2s' } });
    try {
      const agent = request.agent(nowhere.app);
      expectRedirect(await signUp(agent, { username: 'nowhere' }), '/dashboard');
      expect((await agent.get('/dashboard')).text).toContain('The container engine is not reachable');
      expect((await request(nowhere.app).get('/health')).body.checks.docker).toBe('error');
      const user = (await nowhere.services.users.findByUsername('nowhere'))!;
      const found = await docker.listContainers({
        all: true,
        filters: { name: [`${nowhere.config.containers.namePrefix}-nowhere-${user.id}`] },
      });
      expect(found).toHaveLength(0);
    } finally {
      await nowhere.close();
    }
  });
});
