// /health and the dashboard while Docker is fine, gone, hanging, and back again: Spawner keeps
// serving throughout and recovers without a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork } from '../helpers/docker.js';
import { DockerProxy } from '../helpers/dockerProxy.js';
import { expectRedirect, logIn, signUp } from '../helpers/http.js';

const runId = inject('runId');
const proxy = new DockerProxy();
let t: TestApp;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-health`);
  await proxy.start();
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, DOCKER_HOST: proxy.url, DOCKER_TIMEOUT: '3s' } });
});

afterAll(async () => {
  await t?.close();
  await proxy.stop();
});

describe('/health', () => {
  it('when database and Docker answer, then 200 with the version and both checks ok', async () => {
    const response = await request(t.app).get('/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      checks: { database: 'ok', docker: 'ok' },
    });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('when Docker is unreachable, then 503 names Docker, the dashboard explains, and Spawner keeps serving; when it is back, all works again', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'outage' }), '/dashboard');

    await proxy.stop();
    const down = await request(t.app).get('/health');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'degraded', checks: { database: 'ok', docker: 'error' } });

    const dashboard = await agent.get('/dashboard');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('data-state="error"');
    expect(dashboard.text).toContain('The container engine is not reachable');
    expect(dashboard.text).toContain('Try again');
    // Login still works and says what is wrong; new people can still sign up.
    const again = request.agent(t.app);
    expectRedirect(await logIn(again, { username: 'outage' }), '/dashboard');
    expect((await again.get('/dashboard')).text).toContain('not reachable');
    expectRedirect(await signUp(request.agent(t.app), { username: 'during-outage' }), '/dashboard');
    expect(await t.services.users.findByUsername('during-outage')).toBeDefined();

    await proxy.start();
    expect((await request(t.app).get('/health')).status).toBe(200);
    expectRedirect(await logIn(request.agent(t.app), { username: 'during-outage' }), '/dashboard');
    const status = await t.services.containers.status((await t.services.users.findByUsername('during-outage'))!);
    expect(status.state).toBe('running');
  });

  it('when Docker hangs, then /health still answers 503 within its short timeout', async () => {
    const hanging = new DockerProxy();
    await hanging.start('hang');
    const stuck = buildTestApp({ runId, env: { DOCKER_HOST: hanging.url } });
    try {
      const started = Date.now();
      const response = await request(stuck.app).get('/health');
      expect(response.status).toBe(503);
      expect(response.body.checks).toEqual({ database: 'ok', docker: 'error' });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await stuck.close();
      await hanging.stop();
    }
  });

  it('when Docker points at a closed port, then 503 at once', async () => {
    const closed = buildTestApp({ runId, env: { DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    try {
      const response = await request(closed.app).get('/health');
      expect(response.status).toBe(503);
      expect(response.body.checks.docker).toBe('error');
    } finally {
      await closed.close();
    }
  });
});
