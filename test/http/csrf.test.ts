// CSRF over real HTTP, on the real Docker engine: every state-changing request without the form's
// token, or with someone else's, gets a readable 403 page and changes nothing (no account, no
// login, no logout, no container restarted). Logout is POST only.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import request, { type Agent, type Response } from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient, TEST_RUN_LABEL } from '../helpers/docker.js';
import { csrfFrom, expectRedirect, logIn, signUp, tokenFor } from '../helpers/http.js';
import { listRoutes } from '../helpers/routes.js';

const runId = inject('runId');
let t: TestApp;
let erin: Agent;
let erinToken: string;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-csrf`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network } });
  erin = request.agent(t.app);
  expectRedirect(await signUp(erin, { username: 'erin', password: 'erin-password-1' }), '/dashboard');
  erinToken = csrfFrom((await erin.get('/dashboard')).text);
});

afterAll(() => t?.close());

/** A token that is genuine, but belongs to another visitor's session. */
async function strangersToken(): Promise<string> {
  return tokenFor(request.agent(t.app), '/login');
}

function expectRefused(response: Response): void {
  expect(response.status).toBe(403);
  expect(response.headers['content-type']).toMatch(/text\/html/);
  expect(response.text).toContain('This form has expired or did not come from this site');
}

async function erinsContainer() {
  const user = (await t.services.users.findByUsername('erin'))!;
  const info = await dockerClient().getContainer(user.containerId!).inspect();
  return { id: info.Id, startedAt: info.State.StartedAt, running: info.State.Running };
}

async function sessionCount(): Promise<number | undefined> {
  return (await t.query<{ n: number }>('SELECT count(*) AS n FROM sessions'))[0]?.n;
}

describe('signup', () => {
  it.each([
    ['no token', async () => undefined],
    ['an empty token', async () => ''],
    ['a made-up token', async () => 'x'.repeat(64)],
    ["a stranger's genuine token", strangersToken],
  ])('when the form is sent with %s, then 403 and no account or container exists', async (_what, token) => {
    const agent = request.agent(t.app);
    await agent.get('/signup');
    const value = await token();
    const response = await agent
      .post('/signup')
      .type('form')
      .send({
        ...(value === undefined ? {} : { _csrf: value }),
        username: 'mallory',
        email: 'mallory@example.com',
        password: 'correct horse battery',
      });
    expectRefused(response);
    expect(await t.services.users.findByUsername('mallory')).toBeUndefined();
    const containers = await dockerClient().listContainers({
      all: true,
      filters: { label: [`${TEST_RUN_LABEL}=${runId}`, 'spawner.username=mallory'] },
    });
    expect(containers).toEqual([]);
    expectRedirect(await agent.get('/dashboard'), '/login');
  });

  it('when the token comes in the query string or a header instead of the form, then it is refused too', async () => {
    const agent = request.agent(t.app);
    const token = await tokenFor(agent, '/signup');
    const body = { username: 'mallory', email: 'mallory@example.com', password: 'correct horse battery' };
    expectRefused(
      await agent
        .post(`/signup?_csrf=${encodeURIComponent(token)}`)
        .type('form')
        .send(body),
    );
    expectRefused(await agent.post('/signup').set('X-CSRF-Token', token).type('form').send(body));
    expect(await t.services.users.findByUsername('mallory')).toBeUndefined();
  });
});

describe('login', () => {
  it('when the right password is sent without a valid token (login CSRF), then the visitor is not logged in', async () => {
    for (const token of [undefined, await strangersToken()]) {
      const agent = request.agent(t.app);
      await agent.get('/login');
      const before = await sessionCount();
      const response = await agent
        .post('/login')
        .type('form')
        .send({ ...(token ? { _csrf: token } : {}), username: 'erin', password: 'erin-password-1' });
      expectRefused(response);
      expectRedirect(await agent.get('/dashboard'), '/login');
      expect(await sessionCount()).toBe(before);
    }
  });

  it('when the token of the session before login is reused after login, then it no longer works', async () => {
    const agent = request.agent(t.app);
    const oldToken = await tokenFor(agent, '/login');
    expectRedirect(await logIn(agent, { username: 'erin', password: 'erin-password-1' }), '/dashboard');
    const response = await agent.post('/logout').type('form').send({ _csrf: oldToken });
    expectRefused(response);
    expect((await agent.get('/dashboard')).status).toBe(200);
  });
});

describe('logout', () => {
  it('when logout is posted without or with a wrong token, then the person stays logged in with the same session', async () => {
    const cookieBefore = erin.jar.getCookie('spawner.sid', { domain: '127.0.0.1', path: '/', secure: false, script: false })?.value;
    const stranger = await strangersToken();
    const sessionsBefore = await sessionCount();
    expectRefused(await erin.post('/logout').type('form').send({}));
    expectRefused(await erin.post('/logout').type('form').send({ _csrf: stranger }));
    expectRefused(
      await erin
        .post('/logout')
        .type('form')
        .send({ _csrf: `${erinToken}x` }),
    );
    expect(await sessionCount()).toBe(sessionsBefore);
    const dashboard = await erin.get('/dashboard');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('Hello, erin');
    expect(erin.jar.getCookie('spawner.sid', { domain: '127.0.0.1', path: '/', secure: false, script: false })?.value).toBe(cookieBefore);
  });

  it('when GET /logout is visited (a link or an <img> on another site), then 405 and the person stays logged in', async () => {
    const response = await erin.get('/logout');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect(response.text).toContain('Method not allowed');
    expect((await erin.get('/dashboard')).status).toBe(200);
  });
});

describe('container buttons', () => {
  it.each(['/container/restart', '/container/start'])(
    'when %s is posted without or with a wrong token, then the container is not touched',
    async (path) => {
      const before = await erinsContainer();
      expect(before.running).toBe(true);
      expectRefused(await erin.post(path).type('form').send({}));
      expectRefused(
        await erin
          .post(path)
          .type('form')
          .send({ _csrf: await strangersToken() }),
      );
      expect(await erinsContainer()).toEqual(before);
    },
  );

  it('when restart is posted with the right token, then the container does restart (the check above can see it)', async () => {
    const before = await erinsContainer();
    expectRedirect(await erin.post('/container/restart').type('form').send({ _csrf: erinToken }), '/dashboard');
    const after = await erinsContainer();
    expect(after.id).toBe(before.id);
    expect(after.startedAt).not.toBe(before.startedAt);
  });
});

describe('every route', () => {
  const stateChanging = ['post', 'put', 'patch', 'delete'];

  it('when any route is sent a POST without a token by a logged-in person, then it is refused or not allowed', async () => {
    const routes = listRoutes(t.app);
    const posts = routes.filter((r) => r.methods.includes('post'));
    // The known forms are all found, so routes added later are covered as well.
    expect(posts.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/signup', '/login', '/logout', '/container/restart', '/container/start']),
    );
    for (const route of posts) {
      const response = await erin.post(route.path).type('form').send({ username: 'erin', password: 'erin-password-1' });
      expect(response.status, `${route.path}: ${response.text.slice(0, 200)}`).toBe(403);
    }
    expect((await erin.get('/dashboard')).status).toBe(200);
  });

  it('when any route is sent PUT, PATCH or DELETE, then it answers 404 or 405 and nothing more', async () => {
    const before = await erinsContainer();
    for (const route of listRoutes(t.app)) {
      for (const method of stateChanging.filter((m) => !route.methods.includes(m))) {
        const response = await erin[method as 'put'](route.path).type('form').send({ _csrf: erinToken });
        expect([404, 405], `${method} ${route.path}`).toContain(response.status);
      }
    }
    expect(await erinsContainer()).toEqual(before);
    expect((await erin.get('/dashboard')).status).toBe(200);
  });
});
