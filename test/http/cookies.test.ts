// The session cookie over real HTTP: its attributes (HttpOnly, SameSite=Lax, Secure only behind a
// trusted TLS proxy, host-only, Path=/hub in path mode), a new id at login (no fixation), the idle
// timeout and the absolute lifetime enforced by the server (a replayed old cookie does not work),
// and path mode's promise that the cookie never reaches a person's service at /<name>/.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import request, { type Agent, type Response } from 'supertest';
import type { TestApp } from '../helpers/app.js';
import { appsPerFile } from '../helpers/appsPerFile.js';
import { csrfFrom, expectRedirect, logIn, signUp, tokenFor } from '../helpers/http.js';

const runId = inject('runId');
const build = appsPerFile(runId, 'cookies');

interface SetCookie {
  name: string;
  value: string;
  attributes: Map<string, string>;
}

function sessionCookie(response: Response): SetCookie | undefined {
  const headers = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  const raw = headers.find((h) => h.startsWith('spawner.sid='));
  if (!raw) return undefined;
  const [pair, ...rest] = raw.split(';');
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const [k, ...v] = part.trim().split('=');
    attributes.set(k!.toLowerCase(), v.join('='));
  }
  return { name: 'spawner.sid', value: pair!.slice('spawner.sid='.length), attributes };
}

/** RFC 6265 §5.1.4 path-match, which browsers implement (superagent's jar only compares prefixes). */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** Logged in? Asked through GET /login, which sends a logged-in person on to the dashboard. */
async function loggedIn(app: TestApp['app'], cookie: string, base = ''): Promise<boolean> {
  const response = await request(app).get(`${base}/login`).set('Cookie', `spawner.sid=${cookie}`);
  expect([200, 303], response.text.slice(0, 300)).toContain(response.status);
  return response.status === 303;
}

/**
 * Lets real time pass. Time passing is what the idle-timeout and lifetime tests are about (1 s and
 * 2 s, enforced by the server's clock): nothing here waits for an event with it.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A session starts at login (looking at a page starts none): the login answer's session cookie. */
async function loginCookie(
  app: TestApp['app'],
  username: string,
  headers: Record<string, string> = {},
  base = '',
): Promise<SetCookie | undefined> {
  const agent = request.agent(app);
  const token = await tokenFor(agent, `${base}/login`);
  const response = await agent
    .post(`${base}/login`)
    .set(headers)
    .type('form')
    .send({ _csrf: token, username, password: 'correct horse battery' });
  return sessionCookie(response);
}

describe('attributes in subdomain mode', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = build();
    await t.services.accounts.signUp({ username: 'cora', email: 'cora@example.com', password: 'correct horse battery' });
  });

  it('when a visitor only looks at the login page, then no session starts', async () => {
    expect(sessionCookie(await request(t.app).get('/login'))).toBeUndefined();
  });

  it('when a session starts over plain HTTP, then the cookie is HttpOnly, SameSite=Lax, host-only, Path=/ and not Secure', async () => {
    const cookie = await loginCookie(t.app, 'cora');
    expect(cookie).toBeDefined();
    expect(cookie!.attributes.has('httponly')).toBe(true);
    expect(cookie!.attributes.get('samesite')).toBe('Lax');
    expect(cookie!.attributes.get('path')).toBe('/');
    // No Domain attribute: the browser sends it back only to spawner.<domain>, never to alice.<domain>.
    expect(cookie!.attributes.has('domain')).toBe(false);
    expect(cookie!.attributes.has('secure')).toBe(false);
    // Signed: the value is s:<id>.<signature>.
    expect(decodeURIComponent(cookie!.value)).toMatch(/^s:[\w-]+\.[\w+/=-]+$/);
  });

  it('when the request came over TLS through a trusted proxy (Traefik), then the cookie is Secure', async () => {
    // supertest connects from 127.0.0.1, which the default TRUST_PROXY trusts.
    const cookie = await loginCookie(t.app, 'cora', { 'X-Forwarded-Proto': 'https' });
    expect(cookie!.attributes.has('secure')).toBe(true);
    expect(cookie!.attributes.has('httponly')).toBe(true);
  });

  it('when the same header comes from an address that is not a trusted proxy, then it is ignored', async () => {
    const untrusted = build({ TRUST_PROXY: '10.250.0.1', RATE_LIMIT_LOGIN_PER_MINUTE: '2' });
    await untrusted.services.accounts.signUp({ username: 'cora', email: 'cora@example.com', password: 'correct horse battery' });
    const cookie = await loginCookie(untrusted.app, 'cora', { 'X-Forwarded-Proto': 'https' });
    expect(cookie!.attributes.has('secure')).toBe(false);
    // Neither can such a client pick its own address to slip past the per-address login limit.
    const agent = request.agent(untrusted.app);
    const token = await tokenFor(agent, '/login');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await agent
        .post('/login')
        .set('X-Forwarded-For', `192.0.2.${i}`)
        .type('form')
        .send({ _csrf: token, username: `spoof-${i}`, password: 'wrong-password' });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([401, 401, 429]);
  });
});

describe('session ids', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = build();
    await t.services.accounts.signUp({ username: 'fay', email: 'fay@example.com', password: 'fay-password-1' });
  });

  it('when a visitor logs in on a session id someone planted (fixation), then the planted id stays logged out and is gone', async () => {
    // Anonymous pages start no session (there is no anonymous id to steal or plant): the attacker
    // can only plant an id of their own making, which the store has never seen.
    const plantedId = 'planted-session-id-0123456789';
    const planted = encodeURIComponent(`s:${plantedId}.${'A'.repeat(43)}`);
    const page = await request(t.app).get('/login');
    const csrfCookie = ([] as string[])
      .concat(page.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('spawner.csrf='))!
      .split(';')[0];
    const response = await request(t.app)
      .post('/login')
      .set('Cookie', `spawner.sid=${planted}; ${csrfCookie}`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), username: 'fay', password: 'fay-password-1' });
    expectRedirect(response, '/dashboard');
    const issued = sessionCookie(response)!.value;
    expect(issued).not.toBe(planted);
    expect(await loggedIn(t.app, issued)).toBe(true);
    expect(await loggedIn(t.app, planted)).toBe(false);
    expect(await t.query('SELECT sid FROM sessions WHERE sid = ?', plantedId)).toEqual([]);
  });

  it('when 1,000 cookieless GETs arrive (pages, 404s), then no session row is written', async () => {
    const count = async () => (await t.query<{ n: number }>('SELECT count(*) AS n FROM sessions'))[0]?.n;
    const before = await count();
    const paths = ['/login', '/signup', '/', '/no/such/page'];
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(paths.flatMap((p) => Array.from({ length: 50 / paths.length + 1 }, () => request(t.app).get(p))).slice(0, 50));
    }
    expect(await count()).toBe(before);
  });

  it('when a person logs out, then replaying the old cookie does not log anyone in', async () => {
    const agent = request.agent(t.app);
    const login = await logIn(agent, { username: 'fay', password: 'fay-password-1' });
    const old = sessionCookie(login)!.value;
    const token = csrfFrom((await agent.get('/login?x=1').redirects(1)).text);
    const logout = await agent.post('/logout').type('form').send({ _csrf: token });
    expectRedirect(logout, '/login?logged_out=1');
    expect(sessionCookie(logout)?.attributes.get('expires')).toMatch(/1970/);
    expect(await loggedIn(t.app, old)).toBe(false);
  });
});

describe('idle timeout and absolute lifetime (SESSION_IDLE_TIMEOUT=1s, SESSION_MAX_AGE=2s)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = build({ SESSION_IDLE_TIMEOUT: '1s', SESSION_MAX_AGE: '2s' });
    await t.services.accounts.signUp({ username: 'gus', email: 'gus@example.com', password: 'gus-password-1' });
    // The first login creates gus's container; later logins find it running and are quick.
    expectRedirect(await logIn(request.agent(t.app), { username: 'gus', password: 'gus-password-1' }), '/dashboard');
  });

  async function freshLogin(): Promise<string> {
    const response = await logIn(request.agent(t.app), { username: 'gus', password: 'gus-password-1' });
    expectRedirect(response, '/dashboard');
    const cookie = sessionCookie(response)!;
    // The browser is told the idle timeout; the server enforces both limits itself (below).
    expect(Date.parse(cookie.attributes.get('expires')!) - Date.now()).toBeLessThanOrEqual(1000);
    return cookie.value;
  }

  it.concurrent('when a session is left alone longer than the idle timeout, then the server ends it', async () => {
    const cookie = await freshLogin();
    await sleep(1300); // longer than the 1 s idle timeout
    expect(await loggedIn(t.app, cookie)).toBe(false);
  });

  it.concurrent("when a logged-in person makes a request, then the browser's cookie is renewed for another idle period", async () => {
    const cookie = await freshLogin();
    // The first page after login stores a new CSRF token (a changed session is always sent back);
    // the second changes nothing, so only rolling renews its cookie.
    expect(await loggedIn(t.app, cookie)).toBe(true);
    await sleep(500); // half the 1 s idle timeout: still logged in, and the request rolls it on
    const response = await request(t.app).get('/login').set('Cookie', `spawner.sid=${cookie}`);
    expect(response.status).toBe(303);
    // Rolling: the same id comes back with a new Expires, one idle period from now (whole seconds).
    const renewed = sessionCookie(response);
    expect(renewed?.value).toBe(cookie);
    expect(Date.parse(renewed!.attributes.get('expires')!)).toBeGreaterThan(Date.now() - 1000);
  });

  it.concurrent('when a session stays active, then the idle timeout never ends it, but the absolute lifetime does', async () => {
    const started = Date.now();
    const cookie = await freshLogin();
    const loggedInAt = Date.now();
    // The session began between started and loggedInAt; times below are measured from started.
    const seen: [number, boolean][] = [];
    // A request every 300 ms keeps it from idling out; each one rolls the idle timeout on.
    while (Date.now() - loggedInAt < 2600) {
      seen.push([Date.now() - started, await loggedIn(t.app, cookie)]);
      await sleep(300);
    }
    const log = JSON.stringify({ loginTookMs: loggedInAt - started, seen });
    const beforeEnd = seen.filter(([at]) => at < 1900);
    const afterEnd = seen.filter(([at]) => at > loggedInAt - started + 2100);
    expect(
      beforeEnd.every(([, inside]) => inside),
      log,
    ).toBe(true);
    // Still in more than the idle timeout after login: activity counts.
    expect(
      beforeEnd.some(([at]) => at > loggedInAt - started + 1100),
      log,
    ).toBe(true);
    expect(afterEnd.length, log).toBeGreaterThan(0);
    expect(
      afterEnd.every(([, inside]) => !inside),
      log,
    ).toBe(true);
  });
});

describe('path mode: Spawner lives under /hub and its cookie stays there', () => {
  let t: TestApp;
  let agent: Agent;
  beforeAll(() => {
    t = build({ ROUTING_MODE: 'path' });
    agent = request.agent(t.app);
  });

  it("when Spawner's pages are visited, then they answer under /hub and / leads there", async () => {
    expectRedirect(await request(t.app).get('/'), '/hub/');
    expectRedirect(await request(t.app).get('/hub/'), '/hub/login');
    expect((await request(t.app).get('/hub/login')).status).toBe(200);
    expect((await request(t.app).get('/login')).status).toBe(404);
  });

  it('when a person signs up and uses the dashboard, then every step stays under /hub', async () => {
    expectRedirect(await signUp(agent, { username: 'hub-1' }, '/hub'), '/hub/dashboard');
    const dashboard = await agent.get('/hub/dashboard');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('Hello, hub-1');
    expect(dashboard.text).toContain('action="/hub/container/restart"');
    expect(dashboard.text).toContain('action="/hub/logout"');
    const token = csrfFrom(dashboard.text);
    expectRedirect(await agent.post('/hub/container/restart').type('form').send({ _csrf: token }), '/hub/dashboard');
    const logout = await agent.post('/hub/logout').type('form').send({ _csrf: token });
    expectRedirect(logout, '/hub/login?logged_out=1');
    expect(sessionCookie(logout)?.attributes.get('path')).toBe('/hub');
  });

  it('when the session cookie is set, then its Path is /hub, so browsers never send it to /<name>/', async () => {
    await t.services.accounts.signUp({ username: 'pia', email: 'pia@example.com', password: 'correct horse battery' });
    const cookie = await loginCookie(t.app, 'pia', {}, '/hub');
    expect(cookie!.attributes.get('path')).toBe('/hub');
    expect(cookie!.attributes.has('domain')).toBe(false);
    const path = cookie!.attributes.get('path')!;
    for (const p of ['/hub', '/hub/', '/hub/login', '/hub/dashboard', '/hub/container/restart']) expect(pathMatches(p, path), p).toBe(true);
    // People's services, including names that start with "hub" (allowed: only "hub" itself is reserved).
    for (const p of ['/', '/alice', '/alice/', '/alice/hub/', '/hub-1/', '/hubby/', '/Hub/', '/health']) {
      expect(pathMatches(p, path), p).toBe(false);
    }
    const refused = await signUp(request.agent(t.app), { username: 'hub' }, '/hub');
    expect(refused.status).toBe(422);
  });

  it('when addresses outside /hub answer, then none of them sets a cookie', async () => {
    // /hub-1/ is a person's address: Spawner only sees it while the service sleeps (wake page).
    for (const p of ['/', '/health', '/hub-1/', '/hub-1/x', '/nobody/page']) {
      const response = await request(t.app).get(p);
      expect(response.headers['set-cookie'], p).toBeUndefined();
    }
  });
});
