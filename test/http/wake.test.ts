// The wake handler as the fallback route reaches it (Host alice.<domain>, or /alice/… in path
// mode), straight through HTTP: who it wakes, who it refuses, and its limits. These apps make new
// services public (SERVICE_ACCESS=public): waking is the subject here; who may wake is
// test/http/access.test.ts's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient } from '../helpers/docker.js';
import { csrfFrom, expectRedirect, signUp } from '../helpers/http.js';

const runId = inject('runId');
const docker = dockerClient();
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36';
let t: TestApp;
let pathMode: TestApp;
let holding: TestApp;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-wake`);
  // WAKE_HOLD=0: show the starting page at once, so these tests see it whatever the start time.
  t = buildTestApp({
    runId,
    env: {
      TRAEFIK_NETWORK: network,
      BASE_DOMAIN: 'apps.test',
      WAKE_RATE_LIMIT_PER_MINUTE: '3',
      WAKE_HOLD: '0ms',
      SERVICE_ACCESS: 'public',
    },
  });
  pathMode = buildTestApp({
    runId,
    env: { TRAEFIK_NETWORK: network, BASE_DOMAIN: 'path.test', ROUTING_MODE: 'path', WAKE_HOLD: '0ms', SERVICE_ACCESS: 'public' },
  });
  holding = buildTestApp({
    runId,
    env: { TRAEFIK_NETWORK: network, BASE_DOMAIN: 'hold.test', ROUTING_MODE: 'path', SERVICE_ACCESS: 'public' },
  });
});

afterAll(async () => {
  await t?.close();
  await pathMode?.close();
  await holding?.close();
});

async function stoppedUser(app: TestApp, username: string, base = '') {
  expectRedirect(await signUp(request.agent(app.app), { username }, base), `${base}/dashboard`);
  const user = (await app.services.users.findByUsername(username))!;
  await app.services.containers.stop(user);
  return { user, name: `${app.config.containers.namePrefix}-${username}-${user.id}` };
}

describe('wake handler', () => {
  it('when the host names nobody, then a stranger is sent to log in, as for a name that is not public (no name probing)', async () => {
    const response = await request(t.app).get('/').set('Host', 'ghost.apps.test').set('User-Agent', BROWSER).set('Accept', 'text/html');
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`http://spawner.apps.test/authorize?next=${encodeURIComponent('http://ghost.apps.test/')}`);
  });

  it('when a bot asks, then it hears "asleep" and the container stays stopped', async () => {
    const { name } = await stoppedUser(t, 'sleepy');
    const response = await request(t.app)
      .get('/')
      .set('Host', 'sleepy.apps.test')
      .set('User-Agent', 'Googlebot/2.1')
      .set('Accept', 'text/html');
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('60');
    const noAgent = await request(t.app).get('/').set('Host', 'sleepy.apps.test').set('User-Agent', '');
    expect(noAgent.status).toBe(503);
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(false);
  });

  it('when a browser asks, then the starting page answers and the container starts', async () => {
    const { name } = await stoppedUser(t, 'wakey');
    const response = await request(t.app)
      .get('/docs?page=2')
      .set('Host', 'wakey.apps.test')
      .set('User-Agent', BROWSER)
      .set('Accept', 'text/html');
    expect(response.status).toBe(503);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.text).toContain("Starting wakey's service");
    expect(response.text).toContain('"/.spawner/wake-events"');
    const nonce = /script-src 'nonce-([^']+)'/.exec(response.headers['content-security-policy'] ?? '')?.[1];
    expect(nonce).toBeDefined();
    expect(response.text).toContain(`<script nonce="${nonce}">`);
    for (let i = 0; i < 50 && !(await docker.getContainer(name).inspect()).State.Running; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(true);
  });

  it('when one client asks too often, or many clients ask for one name, then 429', async () => {
    await stoppedUser(t, 'popular');
    const ask = (ip: string) =>
      request(t.app)
        .get('/')
        .set('Host', 'popular.apps.test')
        .set('User-Agent', BROWSER)
        .set('Accept', 'text/html')
        .set('X-Forwarded-For', ip);
    const fromOne = [await ask('10.9.0.1'), await ask('10.9.0.1'), await ask('10.9.0.1'), await ask('10.9.0.1')];
    expect(fromOne.map((r) => r.status)).toEqual([503, 503, 503, 429]);
    // The name's own budget is spent too: other clients are refused as well.
    expect((await ask('10.9.0.2')).status).toBe(429);
  });

  it("when Spawner's own host is asked, then Spawner answers, not the wake handler", async () => {
    const response = await request(t.app).get('/login').set('Host', 'spawner.apps.test').set('User-Agent', BROWSER);
    expect(response.status).toBe(200);
    expect(response.text).toContain('Log in');
  });

  it('in path mode, when /<name>/… is asked, then the starting page answers, and /hub is never a name', async () => {
    await stoppedUser(pathMode, 'walker', '/hub');
    const response = await request(pathMode.app).get('/walker/files').set('User-Agent', BROWSER).set('Accept', 'text/html');
    expect(response.status).toBe(503);
    expect(response.text).toContain('"/walker/.spawner/wake-events"');
    expect((await request(pathMode.app).get('/hub/login').set('User-Agent', BROWSER)).status).toBe(200);
    expect((await request(pathMode.app).get('/health')).status).toBe(200);
  });
});

describe('a fast wake', () => {
  it('when the service answers within the hold, then the request itself is forwarded: no starting page, method, body and prefix handled', async () => {
    await stoppedUser(holding, 'quick', '/hub');
    const page = await request(holding.app).get('/quick/').set('User-Agent', BROWSER).set('Accept', 'text/html');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Hello quick');
    // Until Traefik has the route, the page's other requests are forwarded too, without limits.
    const posted = await request(holding.app).post('/quick/cgi-bin/stream?2').set('User-Agent', 'script/1.0').type('text/plain').send('x');
    expect(posted.status).toBe(200);
    expect(posted.text).toContain('tick 1');
    const bare = await request(holding.app).get('/quick?a=1').set('User-Agent', BROWSER);
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe('/quick/?a=1');
  });
});

describe('keep it running', () => {
  it('when the button is pressed, then the idle clock starts again', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'busy' }), '/dashboard');
    const user = (await t.services.users.findByUsername('busy'))!;
    t.services.activity.touch(user.id, Date.now() - 3_600_000);
    t.services.activity.forget(user.id);
    t.services.activity.touch(user.id, Date.now() - 3_600_000);
    const before = t.services.activity.lastActivity(user.id)!;
    const token = csrfFrom((await agent.get('/dashboard')).text);
    expectRedirect(await agent.post('/container/keep-alive').type('form').send({ _csrf: token }), '/dashboard');
    expect(t.services.activity.lastActivity(user.id)!).toBeGreaterThan(before + 3_000_000);
  });
});

describe('after a wake', () => {
  it('when the container is stopped again, then its old address is forgotten and the next request wakes it anew', async () => {
    const { user, name } = await stoppedUser(holding, 'again', '/hub');
    expect((await request(holding.app).get('/again/').set('User-Agent', BROWSER).set('Accept', 'text/html')).status).toBe(200);
    await holding.services.containers.stop(user);
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(false);
    // Within the few seconds an address is remembered: no 502 from a dead address, a wake instead.
    const started = Date.now();
    const response = await request(holding.app).get('/again/').set('User-Agent', BROWSER).set('Accept', 'text/html');
    expect(response.status).toBe(200);
    expect(response.text).toContain('Hello again');
    expect(Date.now() - started).toBeLessThan(2900);
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(true);
  });
});
