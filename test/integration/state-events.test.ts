// Statuses from Docker's event stream on the real engine: a container stopped, paused, unpaused or
// removed behind Spawner's back shows on the dashboard within a second, and many dashboard loads
// and /health checks cost Docker far fewer calls than requests (counted through a proxy in front
// of the engine). The ordering rules and the fallback without a stream: test/unit/stateCache.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import type { Agent } from 'supertest';
import { buildTestApp, containerOf, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient, removeTestResources, scopeLabels } from '../helpers/docker.js';
import { CountingDockerProxy } from '../helpers/countingDockerProxy.js';
import { expectRedirect, signUp } from '../helpers/http.js';

const runId = inject('runId');
const FILE = 'state-events';
const docker = dockerClient();
const proxy = new CountingDockerProxy();
let t: TestApp;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-${FILE}`);
  await proxy.start();
  t = buildTestApp({
    runId,
    env: { TRAEFIK_NETWORK: network, DOCKER_HOST: proxy.url, CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE) },
  });
});

afterAll(async () => {
  await t?.close();
  await proxy.stop();
  await removeTestResources(runId, FILE);
});

const stateOf = (html: string) => /data-state="([a-z]+)"/.exec(html)?.[1];

/** Loads the dashboard until it shows one of `states`, for at most `ms`; returns the loads it took. */
async function dashboardShows(agent: Agent, states: string[], ms = 1000): Promise<number> {
  const deadline = Date.now() + ms;
  let loads = 0;
  let seen: string | undefined;
  while (Date.now() < deadline) {
    seen = stateOf((await agent.get('/dashboard')).text);
    loads++;
    if (seen && states.includes(seen)) return loads;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the dashboard showed ${seen}, not ${states.join('/')}, after ${ms} ms`);
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

describe('states from the event stream', () => {
  it('when a container is stopped, started, paused, unpaused and removed behind Spawner’s back, then the dashboard shows each within a second with few inspects', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'watched' }), '/dashboard');
    const { name } = await containerOf(t, 'watched');
    await until(() => t.services.state.trusted, 'the event stream and the first list');
    const inspects = () => proxy.count(new RegExp(`^GET /containers/${name}/json$`));
    const container = docker.getContainer(name);

    const steps: [string, () => Promise<unknown>, string[]][] = [
      ['stop', () => container.stop({ t: 0 }), ['stopped']],
      ['start', () => container.start(), ['starting', 'running']],
      ['pause', () => container.pause(), ['paused']],
      ['unpause', () => container.unpause(), ['starting', 'running']],
      ['remove', () => container.remove({ force: true }), ['missing']],
    ];
    for (const [what, act, states] of steps) {
      await act();
      await dashboardShows(agent, states);
      const before = inspects();
      for (let i = 0; i < 20; i++) expect(states, what).toContain(stateOf((await agent.get('/dashboard')).text));
      // 20 loads: at most a couple of inspects (a health report may arrive in between), not 20.
      expect(inspects() - before, what).toBeLessThanOrEqual(2);
    }
  });

  it('when the manager restarts a container, then the dashboard right after shows it running with the new start time', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'restarted' }), '/dashboard');
    const { user, name } = await containerOf(t, 'restarted');
    const before = (await docker.getContainer(name).inspect()).State.StartedAt;
    await until(() => t.services.state.trusted, 'the event stream and the first list');
    const status = await t.services.containers.restart(user);
    const shown = await t.services.containers.status(user);
    expect(['starting', 'running']).toContain(shown.state);
    expect(shown.startedAt?.getTime()).toBe(status.startedAt?.getTime());
    expect(shown.startedAt!.getTime()).toBeGreaterThan(new Date(before).getTime());
  });
});

describe('/health', () => {
  it('when 100 requests arrive within a second, then Docker is pinged at most twice', async () => {
    const pings = () => proxy.count(/^(GET|HEAD) \/_ping$/);
    const before = pings();
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 100 }, () => request(t.app).get('/health')));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(pings() - before).toBeGreaterThanOrEqual(1);
    expect(pings() - before).toBeLessThanOrEqual(2);
  });
});
