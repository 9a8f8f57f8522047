// /metrics over real HTTP on the real engine: the bearer token, the Prometheus text a real scrape
// gives (checked by promtool), and counters that move with what people do.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { buildTestApp, containerOf, type TestApp } from '../helpers/app.js';
import { createTestNetwork } from '../helpers/docker.js';
import { logIn, signUp } from '../helpers/http.js';
import { CountingDockerProxy } from '../helpers/countingDockerProxy.js';

const runId = inject('runId');
const TOKEN = 'metrics-token-0123456789abcdefghij';
let t: TestApp;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-metrics`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, METRICS_TOKEN: TOKEN } });
});

afterAll(() => t?.close());

const scrape = async () => {
  const response = await request(t.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
  expect(response.status).toBe(200);
  return response.text;
};

/** The value of one series, e.g. value(text, 'spawner_logins_total{result="failure"}'). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no series ${series} in the scrape`);
  return Number(line.slice(series.length + 1));
}

function promtool(): string | undefined {
  const found = spawnSync('promtool', ['--version'], { stdio: 'ignore' });
  return found.status === 0 ? 'promtool' : undefined;
}

describe('access', () => {
  it('when no token, a wrong one or one in the query is sent, then 401 JSON and no metrics', async () => {
    for (const attempt of [
      request(t.app).get('/metrics'),
      request(t.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}x`),
      request(t.app)
        .get('/metrics')
        .set('Authorization', `Bearer ${TOKEN.slice(0, -1)}`),
      request(t.app)
        .get('/metrics')
        .set('Authorization', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`),
      request(t.app).get(`/metrics?token=${TOKEN}`),
    ]) {
      const response = await attempt;
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ error: 'token_required', message: expect.any(String) });
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.text).not.toContain('spawner_');
    }
  });

  it('when METRICS_TOKEN is not set, then /metrics does not exist (404)', async () => {
    const off = buildTestApp({ runId, env: { TRAEFIK_NETWORK: t.config.traefik.network } });
    try {
      const response = await request(off.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
      expect(response.status).toBe(404);
      expect(response.text).not.toContain('spawner_');
    } finally {
      await off.close();
    }
  });
});

describe('the scrape', () => {
  it('when scraped, then it has the defaults and every spawner series, and promtool finds nothing wrong', async () => {
    const text = await scrape();
    for (const name of [
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'spawner_users',
      'spawner_running_containers',
      'spawner_spawn_duration_seconds_bucket',
      'spawner_wake_duration_seconds_bucket',
      'spawner_logins_total',
      'spawner_idle_stops_total',
      'spawner_docker_errors_total',
      'spawner_http_request_duration_seconds_bucket',
      'spawner_build_info',
    ])
      expect(text, name).toContain(`\n${name}`);
    expect(text).toMatch(/spawner_build_info\{version="\d+\.\d+\.\d+[^"]*"\} 1/);
    const tool = promtool();
    if (!tool) {
      // CI installs it (scripts/install-promtool.sh); a developer machine without it still runs the rest.
      expect(process.env.CI, 'promtool is missing; run scripts/install-promtool.sh').not.toBe('true');
      return;
    }
    const result = spawnSync(tool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('when a person signs up, then spawner_users and spawner_running_containers move, and no label names them', async () => {
    const before = await scrape();
    const agent = request.agent(t.app);
    expect((await signUp(agent, { username: 'metrics-signup' })).status).toBe(303);
    const after = await scrape();
    expect(value(after, 'spawner_users')).toBe(value(before, 'spawner_users') + 1);
    // The state cache follows every managed container on the engine (other test files' too), so
    // the gauge is compared with the cache's own view of this person's container: it is counted.
    const { name } = await containerOf(t, 'metrics-signup');
    for (let i = 0; i < 50 && t.services.state.get(name)?.phase !== 'running'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(value(await scrape(), 'spawner_running_containers')).toBeGreaterThanOrEqual(1);
    // The signup's start is followed until the service answers: one more successful spawn.
    let spawns = value(await scrape(), 'spawner_spawn_duration_seconds_count{result="success"}');
    for (let i = 0; i < 100 && spawns <= value(before, 'spawner_spawn_duration_seconds_count{result="success"}'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      spawns = value(await scrape(), 'spawner_spawn_duration_seconds_count{result="success"}');
    }
    expect(spawns).toBe(value(before, 'spawner_spawn_duration_seconds_count{result="success"}') + 1);
    await agent.get('/dashboard');
    const later = await scrape();
    expect(later).not.toContain('metrics-signup');
    expect(later).toMatch(/spawner_http_request_duration_seconds_count\{route="\/dashboard",method="GET",status="2xx"\} [1-9]/);
  });

  it('when a login fails and one succeeds, then spawner_logins_total counts each by result', async () => {
    const before = await scrape();
    const agent = request.agent(t.app);
    expect((await signUp(agent, { username: 'metrics-login' })).status).toBe(303);
    expect((await logIn(request.agent(t.app), { username: 'metrics-login', password: 'wrong password!' })).status).toBe(401);
    expect((await logIn(request.agent(t.app), { username: 'metrics-login' })).status).toBe(303);
    const after = await scrape();
    expect(value(after, 'spawner_logins_total{result="failure"}')).toBe(value(before, 'spawner_logins_total{result="failure"}') + 1);
    expect(value(after, 'spawner_logins_total{result="success"}')).toBe(value(before, 'spawner_logins_total{result="success"}') + 1);
  });

  it('when scraped repeatedly, then Docker is not asked anything (state cache and a cached user count)', async () => {
    const proxy = new CountingDockerProxy();
    await proxy.start();
    const counted = buildTestApp({
      runId,
      env: { TRAEFIK_NETWORK: t.config.traefik.network, METRICS_TOKEN: TOKEN, DOCKER_HOST: proxy.url },
    });
    try {
      expect((await signUp(request.agent(counted.app), { username: 'metrics-counted' })).status).toBe(303);
      // Let the state cache settle (its connect-time list, the signup's events) and the signup's
      // start be followed to "ready" (that watch polls the engine until the service answers).
      const person = (await counted.services.users.findByUsername('metrics-counted'))!;
      for (let i = 0; i < 100 && (!counted.services.state.trusted || counted.services.progress.inProgress(person.id)); i++)
        await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      const before = proxy.calls.length;
      for (let i = 0; i < 20; i++)
        expect((await request(counted.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).status).toBe(200);
      expect(proxy.calls.slice(before)).toEqual([]);
    } finally {
      await counted.close();
      await proxy.stop();
    }
  });

  it('when unknown paths are asked, then the route label stays one word (never the raw path)', async () => {
    await request(t.app).get('/no-such-page-4711');
    const text = await scrape();
    expect(text).not.toContain('4711');
    expect(text).toMatch(/route="unmatched"/);
  });
});
