// hackathon-starter's cheap habit: ask for every GET route Spawner has, in both routing modes,
// logged out and logged in, and make sure none answers 5xx. The routes are read from the app's
// router, so pages added later are covered without editing this file.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import request, { type Agent } from 'supertest';
import type { TestApp } from '../helpers/app.js';
import { appsPerFile } from '../helpers/appsPerFile.js';
import { expectRedirect, signUp } from '../helpers/http.js';
import { listRoutes } from '../helpers/routes.js';

const runId = inject('runId');
const build = appsPerFile(runId, 'smoke');

describe.each([
  ['subdomain mode', {}, ''],
  ['path mode', { ROUTING_MODE: 'path' }, '/hub'],
])('%s', (_mode, env, base) => {
  let t: TestApp;
  let person: Agent;
  let paths: string[];

  beforeAll(async () => {
    t = build(env);
    person = request.agent(t.app);
    expectRedirect(await signUp(person, { username: base ? 'smoke-path' : 'smoke-sub' }, base), `${base}/dashboard`);
    const routes = listRoutes(t.app);
    const found = routes.map((r) => r.path);
    // The walk sees the pages we know of, so it will see new ones too.
    for (const known of ['/health', `${base}/login`, `${base}/signup`, `${base}/dashboard`, `${base}/logout`])
      expect(found).toContain(known);
    // Event streams stay open by design (test/http/live.test.ts covers them); a GET would not end.
    const streams = new Set([`${base}/dashboard/progress`, `${base}/dashboard/logs`]);
    paths = [
      ...new Set([...found, ...found.map((p) => `${p}/`), '/', base || '/', `${base}/`, `${base}/static/style.css`, `${base}/nope`]),
    ].filter((p) => !streams.has(p.replace(/\/$/, '')));
  });

  it.each([
    ['logged out', () => request.agent(t.app)],
    ['logged in', () => person],
  ])('when every GET route is asked for %s, then none answers 5xx', async (_who, agent) => {
    const client = agent();
    const answers: string[] = [];
    for (const path of paths) {
      for (const query of ['', '?x=1', '?logged_out=1&logged_out=2']) {
        const response = await client.get(`${path}${query}`);
        answers.push(`${response.status} GET ${path}${query}`);
        expect(response.status, answers.join('\n')).toBeLessThan(500);
        const head = await client.head(`${path}${query}`);
        expect(head.status, `HEAD ${path}${query}`).toBeLessThan(500);
      }
    }
    // /health stays at the root in both modes, for Docker's HEALTHCHECK and monitors.
    const health = await client.get('/health');
    expect(health.status, health.text.slice(0, 200)).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok' });
    // And the person is still fine afterwards.
    expect((await person.get(`${base}/dashboard`)).status).toBe(200);
  });
});
