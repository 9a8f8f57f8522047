// Accounts over real HTTP: every form, every bad input, sessions, on a fresh SQLite file and the
// real Docker engine (signup and login start real, labelled containers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import request from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork } from '../helpers/docker.js';
import { csrfFrom, expectRedirect, logIn, signUp, tokenFor } from '../helpers/http.js';
import { createApp } from '../../src/app.js';

const runId = inject('runId');
let t: TestApp;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-auth`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network } });
});

afterAll(() => t?.close());

describe('signup', () => {
  it('when the form is shown, then it carries a CSRF token and no session user', async () => {
    const page = await request(t.app).get('/signup');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Create your account');
    expect(csrfFrom(page.text)).toMatch(/\S{10,}/);
  });

  it('when a person signs up, then the account exists, they are logged in and land on the dashboard', async () => {
    const agent = request.agent(t.app);
    const response = await signUp(agent, { username: 'signup-ok' });
    expectRedirect(response, '/dashboard');
    const user = await t.services.users.findByUsername('signup-ok');
    expect(user?.email).toBe('signup-ok@example.com');
    expect(user?.passwordHash).toMatch(/^\$2[aby]\$04\$/);
    expect(user?.containerId).toMatch(/^[0-9a-f]{64}$/);
    const dashboard = await agent.get('/dashboard');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('Hello, signup-ok');
    expect(dashboard.text).toContain('data-state="running"');
  });

  it('when every field is bad, then the form comes back with a message per field and the values kept', async () => {
    const agent = request.agent(t.app);
    const token = await tokenFor(agent, '/signup');
    const response = await agent
      .post('/signup')
      .type('form')
      .send({ _csrf: token, username: '-Bad Name-', email: 'not-an-email', password: 'short' });
    expect(response.status).toBe(422);
    expect(response.text).toContain('Use only lowercase letters');
    expect(response.text).toContain('Enter a valid e-mail address');
    expect(response.text).toContain('Use at least 8 characters');
    expect(response.text).toContain('value="not-an-email"');
    expect(response.text).not.toContain('value="short"');
    expect(await t.services.users.findByEmail('not-an-email')).toBeUndefined();
  });

  it('when the username or e-mail is taken (in any case), then the form says so', async () => {
    const first = request.agent(t.app);
    expectRedirect(await signUp(first, { username: 'dupe-one', email: 'Dupe@Example.com' }), '/dashboard');
    const second = request.agent(t.app);
    const sameName = await signUp(second, { username: 'DUPE-ONE', email: 'other@example.com' });
    expect(sameName.status).toBe(422);
    expect(sameName.text).toContain('This username is taken.');
    const sameEmail = await signUp(second, { username: 'dupe-two', email: 'dupe@example.COM' });
    expect(sameEmail.status).toBe(422);
    expect(sameEmail.text).toContain('An account with this e-mail address exists already.');
    expect(await t.services.users.count()).toBeGreaterThan(0);
    expect(await t.services.users.findByUsername('dupe-two')).toBeUndefined();
  });

  it('when a name is reserved for Spawner, then it is refused', async () => {
    for (const name of ['login', 'dashboard', 'spawner', 'health']) {
      const response = await signUp(request.agent(t.app), { username: name });
      expect(response.status).toBe(422);
      expect(response.text).toContain('This name is reserved');
    }
  });
});

describe('login and logout', () => {
  beforeAll(async () => {
    expectRedirect(await signUp(request.agent(t.app), { username: 'carol', password: 'carol-password-1' }), '/dashboard');
  });

  it('when the password is wrong or the user unknown, then one generic message is shown', async () => {
    const agent = request.agent(t.app);
    const wrong = await logIn(agent, { username: 'carol', password: 'not-her-password' });
    const unknown = await logIn(agent, { username: 'nobody-here', password: 'whatever-123' });
    for (const response of [wrong, unknown]) {
      expect(response.status).toBe(401);
      expect(response.text).toContain('That username or password is not right.');
    }
    expect(wrong.text).toContain('value="carol"');
    expect((await agent.get('/dashboard')).status).toBe(303);
  });

  it('when the login is right, then the session id changes and the dashboard opens', async () => {
    const agent = request.agent(t.app);
    const page = await agent.get('/login');
    const before = page.headers['set-cookie']?.[0]?.split(';')[0];
    const response = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), username: 'Carol', password: 'carol-password-1' });
    expectRedirect(response, '/dashboard');
    const after = response.headers['set-cookie']?.[0]?.split(';')[0];
    expect(before).toBeDefined();
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect((await agent.get('/dashboard')).text).toContain('Hello, carol');
  });

  it('when logging in by e-mail, then it works too', async () => {
    expectRedirect(await logIn(request.agent(t.app), { username: 'carol@example.com', password: 'carol-password-1' }), '/dashboard');
  });

  it('when logging out, then the session is destroyed and the dashboard needs a login again', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await logIn(agent, { username: 'carol', password: 'carol-password-1' }), '/dashboard');
    const [sessionsBefore] = await t.query<{ n: number }>('SELECT count(*) AS n FROM sessions');
    const token = csrfFrom((await agent.get('/dashboard')).text);
    expectRedirect(await agent.post('/logout').type('form').send({ _csrf: token }), '/login?logged_out=1');
    const [sessionsAfter] = await t.query<{ n: number }>('SELECT count(*) AS n FROM sessions');
    expect(sessionsAfter!.n).toBe(sessionsBefore!.n - 1);
    expectRedirect(await agent.get('/dashboard'), '/login');
    expect((await agent.get('/login?logged_out=1')).text).toContain('You have been logged out.');
  });

  it('when GET /logout is tried, then it is refused with 405', async () => {
    const response = await request(t.app).get('/logout');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
  });
});

describe('routing basics', () => {
  it('when / is visited, then it leads to login or dashboard', async () => {
    expectRedirect(await request(t.app).get('/'), '/login');
    const agent = request.agent(t.app);
    await signUp(agent, { username: 'rooty' });
    expectRedirect(await agent.get('/'), '/dashboard');
  });

  it('when the dashboard is asked for without login, then it redirects to login', async () => {
    expectRedirect(await request(t.app).get('/dashboard'), '/login');
  });

  it('when an unknown page is asked for, then a 404 page answers', async () => {
    const response = await request(t.app).get('/no-such-page');
    expect(response.status).toBe(404);
    expect(response.text).toContain('Page not found');
  });

  it('when a session is made, then it survives a new app instance over the same database file', async () => {
    const agent = request.agent(t.app);
    expectRedirect(await signUp(agent, { username: 'persist' }), '/dashboard');
    const cookie = agent.jar.getCookie('spawner.sid', { domain: '127.0.0.1', path: '/', secure: false, script: false });
    expect(cookie).toBeDefined();
    const second = createApp(t.services);
    const response = await request(second).get('/dashboard').set('Cookie', `spawner.sid=${cookie!.value}`);
    expect(response.status).toBe(200);
    expect(response.text).toContain('Hello, persist');
  });
});
