// The access check as Traefik's forwardAuth calls it: GET /.spawner/verify with the request in
// X-Forwarded-*, on a real app (real SQLite, real engine). Every decision: the login redirect,
// 401 for programs, 403 for the wrong person, 200 with Spawner's cookies removed, public and
// shared services, and every way a cookie or a code stops working.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import request, { type Agent } from 'supertest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestNetwork } from '../helpers/docker.js';
import { csrfFrom, expectRedirect, logIn, signUp } from '../helpers/http.js';

const runId = inject('runId');
let t: TestApp;
let pathMode: TestApp;
const agents: Record<string, Agent> = {};

interface Forwarded {
  host: string;
  uri: string;
  proto?: string;
  method?: string;
  accept?: string;
  cookie?: string;
}

/** The call Traefik makes for one request to a person's service. */
function verify(app: TestApp, f: Forwarded) {
  const call = request(app.app)
    .get('/.spawner/verify')
    .set('X-Forwarded-Host', f.host)
    .set('X-Forwarded-Uri', f.uri)
    .set('X-Forwarded-Proto', f.proto ?? 'http')
    .set('X-Forwarded-Method', f.method ?? 'GET')
    .set('Accept', f.accept ?? 'text/html,application/xhtml+xml');
  return f.cookie ? call.set('Cookie', f.cookie) : call;
}

/** Authorize → callback for a logged-in agent (what follows the login redirect); resolves to the cookie pair. */
async function accessCookie(app: TestApp, agent: Agent, url: string): Promise<string> {
  const asked = new URL(url);
  const base = app.config.basePath;
  const granted = await agent.get(`${base}/authorize?next=${encodeURIComponent(url)}`);
  expect(granted.status, granted.text.slice(0, 200)).toBe(302);
  const callback = new URL(granted.headers.location!);
  const back = await verify(app, {
    host: callback.host,
    uri: `${callback.pathname}${callback.search}`,
    proto: asked.protocol.slice(0, -1),
  });
  expect(back.status).toBe(302);
  expect(back.headers.location).toBe(url);
  const setCookie = ([] as string[]).concat(back.headers['set-cookie'] ?? [])[0]!;
  return setCookie.split(';')[0]!;
}

async function person(app: TestApp, username: string, base = ''): Promise<Agent> {
  const agent = request.agent(app.app);
  expectRedirect(await signUp(agent, { username }, base), `${base}/dashboard`);
  return agent;
}

async function post(agent: Agent, path: string, fields: Record<string, string>, base = '') {
  const token = csrfFrom((await agent.get(`${base}/dashboard`)).text);
  return agent
    .post(`${base}${path}`)
    .type('form')
    .send({ _csrf: token, ...fields });
}

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-access`);
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, BASE_DOMAIN: 'apps.test' } });
  pathMode = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, BASE_DOMAIN: 'one.test', ROUTING_MODE: 'path' } });
  for (const name of ['alice', 'bob', 'carol']) agents[name] = await person(t, name);
});

afterAll(async () => {
  await t?.close();
  await pathMode?.close();
});

describe('the access check (forwardAuth)', () => {
  it('when an anonymous browser asks, then 302 to the absolute authorize URL carrying the exact URL it asked for', async () => {
    const response = await verify(t, { host: 'alice.apps.test:8443', uri: '/notes?id=3', proto: 'https' });
    expect(response.status).toBe(302);
    const next = encodeURIComponent('https://alice.apps.test:8443/notes?id=3');
    expect(response.headers.location).toBe(`https://spawner.apps.test:8443/authorize?next=${next}`);
  });

  it('when a program asks without a cookie, then 401 JSON login_required', async () => {
    const response = await verify(t, { host: 'alice.apps.test', uri: '/api', accept: '*/*' });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: 'login_required' });
    const post = await verify(t, { host: 'alice.apps.test', uri: '/', method: 'POST' });
    expect(post.status).toBe(401);
  });

  it('when an unknown name is asked, then a stranger gets exactly what an existing name gives', async () => {
    const ghost = await verify(t, { host: 'ghost.apps.test', uri: '/x' });
    const alice = await verify(t, { host: 'alice.apps.test', uri: '/x' });
    expect(ghost.status).toBe(alice.status);
    expect(ghost.headers.location).toBe(alice.headers.location!.replace('alice', 'ghost'));
    expect((await verify(t, { host: 'ghost.apps.test', uri: '/x', accept: '*/*' })).status).toBe(401);
    // And at authorize, for a logged-in stranger: the same 403 as a service that is not theirs.
    const unknown = await agents.bob!.get(`/authorize?next=${encodeURIComponent('http://ghost.apps.test/')}`);
    const notYours = await agents.bob!.get(`/authorize?next=${encodeURIComponent('http://alice.apps.test/')}`);
    expect([unknown.status, notYours.status]).toEqual([403, 403]);
  });

  it("when bob asks for alice's service, then authorize answers the 403 page and gives no code", async () => {
    const response = await agents.bob!.get(`/authorize?next=${encodeURIComponent('http://alice.apps.test/')}`).set('Accept', 'text/html');
    expect(response.status).toBe(403);
    expect(response.headers.location).toBeUndefined();
    expect(response.text).toContain('data-refused="access_denied"');
    expect(response.text).toContain('logged in as <strong>bob</strong>');
  });

  it('when someone refused logs out from the refusal page, then the login page names the service and leads back to it', async () => {
    const dan = await person(t, 'dan');
    const asked = 'http://alice.apps.test/notes?id=3';
    const refused = await dan.get(`/authorize?next=${encodeURIComponent(asked)}`).set('Accept', 'text/html');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain(`data-asked>${asked}</p>`);
    expect(refused.headers['content-security-policy']).toContain("form-action 'self'");
    const next = /name="next" value="([^"]+)"/.exec(refused.text)![1]!.replace(/&amp;/g, '&');
    expect(next).toBe(`/authorize?next=${encodeURIComponent(asked)}`);
    const out = await dan
      .post('/logout')
      .type('form')
      .send({ _csrf: csrfFrom(refused.text), next });
    expectRedirect(out, `/login?logged_out=1&next=${encodeURIComponent(next)}`);
    const login = await dan.get(out.headers.location!);
    expect(login.status).toBe(200);
    expect(login.text).toContain('to open <strong>alice.apps.test/notes</strong>');
    expect(login.text).toContain(`name="next" value="${next.replace(/&/g, '&amp;')}"`);
    // Logged out for real: the dashboard asks for a login again.
    expect((await dan.get('/dashboard')).status).toBe(303);
  });

  it("when alice comes back with her cookie, then 200, Spawner's cookies removed from Cookie and X-Spawner-User set", async () => {
    const cookie = await accessCookie(t, agents.alice!, 'http://alice.apps.test/notes?id=3');
    expect(cookie).toMatch(/^spawner-access=\d+\.\d+\.\d+\.[\w-]+$/);
    const response = await verify(t, {
      host: 'alice.apps.test',
      uri: '/notes?id=3',
      cookie: `theme=dark; ${cookie}; spawner.sid=s%3Aabc; __Host-spawner.sid=x; spawner-access-alice=y; lang=en`,
    });
    expect(response.status).toBe(200);
    expect(response.headers.cookie).toBe('theme=dark; lang=en');
    expect(response.headers['x-spawner-user']).toBe('alice');
    const alone = await verify(t, { host: 'alice.apps.test', uri: '/', cookie });
    expect(alone.status).toBe(200);
    expect(alone.headers.cookie).toBeUndefined();
    // Her cookie is for her service: on bob's it vouches for nobody.
    expect((await verify(t, { host: 'bob.apps.test', uri: '/', cookie })).status).toBe(302);
  });

  it('when a service is made public, then anyone reaches it with no cookie and no X-Spawner-User', async () => {
    expectRedirect(await post(agents.carol!, '/access/visibility', { visibility: 'public' }), '/dashboard');
    expect((await t.database.users.findByUsername('carol'))!.serviceAccess).toBe('public');
    expect((await agents.carol!.get('/dashboard')).text).toContain('Anyone with the link.');
    const response = await verify(t, { host: 'carol.apps.test', uri: '/', accept: '*/*', cookie: 'a=1; spawner.sid=zzz' });
    expect(response.status).toBe(200);
    expect(response.headers['x-spawner-user']).toBeUndefined();
    expect(response.headers.cookie).toBe('a=1');
    // Made private again: bob, who got a cookie while it was public, is now refused with 403.
    const bobs = await accessCookie(t, agents.bob!, 'http://carol.apps.test/');
    expectRedirect(await post(agents.carol!, '/access/visibility', { visibility: 'owner' }), '/dashboard');
    expect((await verify(t, { host: 'carol.apps.test', uri: '/', cookie: bobs })).status).toBe(403);
    expect((await verify(t, { host: 'carol.apps.test', uri: '/' })).status).toBe(302);
  });

  it('when alice shares with bob, then bob gets in; when she stops, then his cookie is refused', async () => {
    expect((await post(agents.alice!, '/access/share', { share: 'nobody-here' })).status).toBe(422);
    const page = await post(agents.alice!, '/access/share', { share: 'nobody-here' });
    expect(page.text).toContain('There is nobody called nobody-here here.');
    expectRedirect(await post(agents.alice!, '/access/share', { share: 'Bob' }), '/dashboard');
    expect((await t.database.shares.all()).length).toBe(1);
    expect((await agents.alice!.get('/dashboard')).text).toMatch(/class="shared-name">bob</);
    const bobs = await accessCookie(t, agents.bob!, 'http://alice.apps.test/');
    const inside = await verify(t, { host: 'alice.apps.test', uri: '/', cookie: bobs });
    expect(inside.status).toBe(200);
    expect(inside.headers['x-spawner-user']).toBe('bob');
    expectRedirect(await post(agents.alice!, '/access/unshare', { name: 'bob' }), '/dashboard');
    expect(await t.database.shares.all()).toEqual([]);
    expect((await verify(t, { host: 'alice.apps.test', uri: '/', cookie: bobs })).status).toBe(302);
    // Shared again later: the cookie from before stays dead (the service's epoch moved on).
    expectRedirect(await post(agents.alice!, '/access/share', { share: 'bob' }), '/dashboard');
    expect((await verify(t, { host: 'alice.apps.test', uri: '/', cookie: bobs })).status).toBe(302);
    expectRedirect(await post(agents.alice!, '/access/unshare', { name: 'bob' }), '/dashboard');
  });

  it('when the person logs out, then the access cookie is refused (and a new login gets a new one)', async () => {
    const dora = await person(t, 'dora');
    const cookie = await accessCookie(t, dora, 'http://dora.apps.test/');
    expect((await verify(t, { host: 'dora.apps.test', uri: '/', cookie })).status).toBe(200);
    const token = csrfFrom((await dora.get('/dashboard')).text);
    expectRedirect(await dora.post('/logout').type('form').send({ _csrf: token }), '/login?logged_out=1');
    expect((await verify(t, { host: 'dora.apps.test', uri: '/', cookie })).status).toBe(302);
    await logIn(dora, { username: 'dora' });
    const fresh = await accessCookie(t, dora, 'http://dora.apps.test/');
    expect((await verify(t, { host: 'dora.apps.test', uri: '/', cookie: fresh })).status).toBe(200);
  });

  it('when a cookie is forged, altered, expired or from another user id, then it is refused', async () => {
    const cookie = await accessCookie(t, agents.alice!, 'http://alice.apps.test/');
    const [name, value] = cookie.split('=') as [string, string];
    const [id, expires, epoch, mac] = value.split('.') as [string, string, string, string];
    const bob = (await t.database.users.findByUsername('bob'))!;
    const forged = [
      `${id}.${Number(expires) + 86_400}.${epoch}.${mac}`,
      `${bob.id}.${expires}.${epoch}.${mac}`,
      `${id}.${expires}.${Number(epoch) + 1}.${mac}`,
      `${id}.${expires}.${epoch}.${mac.slice(0, -2)}AA`,
      `${id}.1.${epoch}.${mac}`,
      'garbage',
      '',
    ];
    for (const bad of forged)
      expect((await verify(t, { host: 'alice.apps.test', uri: '/', cookie: `${name}=${bad}` })).status, bad).toBe(302);
    // A junk cookie tossed in before the real one does not lock her out.
    expect((await verify(t, { host: 'alice.apps.test', uri: '/', cookie: `${name}=junk; ${cookie}` })).status).toBe(200);
  });

  it('when the one-time code is used again, or for another service, then it is refused', async () => {
    const first = await agents.alice!.get(`/authorize?next=${encodeURIComponent('http://alice.apps.test/')}`);
    const callback = new URL(first.headers.location!);
    const uri = `${callback.pathname}${callback.search}`;
    expect((await verify(t, { host: 'alice.apps.test', uri })).status).toBe(302);
    const again = await verify(t, { host: 'alice.apps.test', uri });
    expect(again.status).toBe(403);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(again.text).toContain('data-refused="access_code_invalid"');
    const other = new URL((await agents.alice!.get(`/authorize?next=${encodeURIComponent('http://alice.apps.test/')}`)).headers.location!);
    expect((await verify(t, { host: 'bob.apps.test', uri: `${other.pathname}${other.search}` })).status).toBe(403);
  });

  it('when next points elsewhere, then no redirect leaves the service (authorize, callback and login)', async () => {
    for (const next of [
      'http://evil.test/',
      'http://alice.apps.test.evil.test/',
      'http://x@alice.apps.test/',
      'javascript:alert(1)',
      '/relative',
    ]) {
      expect((await agents.alice!.get(`/authorize?next=${encodeURIComponent(next)}`)).status, next).toBe(400);
    }
    for (const next of ['//evil.test/', '/\\evil.test/', 'http://evil.test/', '/\r\nSet-Cookie:x=1']) {
      const granted = await agents.alice!.get(`/authorize?next=${encodeURIComponent('http://alice.apps.test/')}`);
      const callback = new URL(granted.headers.location!);
      callback.searchParams.set('next', next);
      const back = await verify(t, { host: 'alice.apps.test', uri: `${callback.pathname}${callback.search}` });
      expect(back.headers.location, next).toBe('http://alice.apps.test/');
    }
    const anonymous = request.agent(t.app);
    const login = await anonymous.get(`/login?next=${encodeURIComponent('//evil.test/')}`);
    expect(login.text).not.toContain('evil.test');
    const token = csrfFrom(login.text);
    const sent = await anonymous
      .post('/login')
      .type('form')
      .send({ _csrf: token, username: 'bob', password: 'correct horse battery', next: '//evil.test/' });
    expectRedirect(sent, '/dashboard');
  });

  it('when an anonymous browser reaches authorize, then it logs in and comes back to authorize, then to the service', async () => {
    const next = encodeURIComponent('http://alice.apps.test/deep/page?q=1');
    const visitor = request.agent(t.app);
    const first = await visitor.get(`/authorize?next=${next}`);
    expectRedirect(first, `/login?next=${encodeURIComponent(`/authorize?next=${next}`)}`);
    const form = await visitor.get(first.headers.location!);
    expect(form.text).toContain(`name="next" value="/authorize?next=${next}"`);
    const sent = await visitor
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), username: 'alice', password: 'correct horse battery', next: `/authorize?next=${next}` });
    expectRedirect(sent, `/authorize?next=${next}`);
    const granted = await visitor.get(sent.headers.location!);
    expect(granted.headers.location).toMatch(
      /^http:\/\/alice\.apps\.test\/\.spawner\/callback\?code=[\w-]{43}&next=%2Fdeep%2Fpage%3Fq%3D1$/,
    );
  });

  it('when an admin asks and ADMINS_REACH_SERVICES is off, then 403; the admin flag is only read', async () => {
    await t.query("UPDATE users SET is_admin = TRUE WHERE username = 'bob'");
    await t.services.access.reload();
    expect((await agents.bob!.get(`/authorize?next=${encodeURIComponent('http://alice.apps.test/')}`)).status).toBe(403);
  });
});

describe('the access check in path mode', () => {
  it('when the round trip runs under /<name>/, then the cookie is spawner-access-<name> with Path=/<name>/ and next stays in the prefix', async () => {
    const erin = await person(pathMode, 'erin', '/hub');
    const anonymous = await verify(pathMode, { host: 'one.test', uri: '/erin/app/' });
    expect(anonymous.headers.location).toBe(`http://one.test/hub/authorize?next=${encodeURIComponent('http://one.test/erin/app/')}`);
    const granted = await erin.get(`/hub/authorize?next=${encodeURIComponent('http://one.test/erin/app/')}`);
    const callback = new URL(granted.headers.location!);
    expect(callback.pathname).toBe('/erin/.spawner/callback');
    const back = await verify(pathMode, { host: 'one.test', uri: `${callback.pathname}${callback.search}` });
    expect(back.headers.location).toBe('http://one.test/erin/app/');
    const setCookie = ([] as string[]).concat(back.headers['set-cookie'] ?? [])[0]!;
    expect(setCookie).toMatch(/^spawner-access-erin=[^;]+; Path=\/erin\/; Max-Age=43200; HttpOnly; SameSite=Lax$/);
    const cookie = setCookie.split(';')[0]!;
    expect((await verify(pathMode, { host: 'one.test', uri: '/erin/x', cookie })).status).toBe(200);
    // `next` may not climb out of /erin/.
    const again = new URL((await erin.get(`/hub/authorize?next=${encodeURIComponent('http://one.test/erin/')}`)).headers.location!);
    again.searchParams.set('next', '/erin/../bob/');
    expect((await verify(pathMode, { host: 'one.test', uri: `${again.pathname}${again.search}` })).headers.location).toBe(
      'http://one.test/erin/',
    );
  });
});

describe('over HTTPS in subdomain mode', () => {
  it('the session cookie is __Host-spawner.sid, the access cookie __Host-spawner-access, and a Domain-scoped spawner.sid means nobody', async () => {
    const network = t.config.traefik.network;
    const tls = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, BASE_DOMAIN: 'tls.test', TRAEFIK_CERTRESOLVER: 'le' } });
    try {
      // By hand: a Secure cookie is not sent back over supertest's plain HTTP by its cookie jar.
      const page = await request(tls.app).get('/signup').set('X-Forwarded-Proto', 'https');
      const first = ([] as string[]).concat(page.headers['set-cookie'] ?? [])[0]!.split(';')[0]!;
      const sent = await request(tls.app)
        .post('/signup')
        .set('X-Forwarded-Proto', 'https')
        .set('Cookie', first)
        .type('form')
        .send({ _csrf: csrfFrom(page.text), username: 'fred', email: 'fred@example.com', password: 'correct horse battery' });
      expect(sent.status).toBe(303);
      const setCookie = ([] as string[]).concat(sent.headers['set-cookie'] ?? []).find((c) => c.includes('spawner.sid'))!;
      const value = setCookie.split(';')[0]!.split('=')[1]!;
      const asHost = await request(tls.app)
        .get('/dashboard')
        .set('X-Forwarded-Proto', 'https')
        .set('Cookie', `__Host-spawner.sid=${value}`);
      expect(asHost.status).toBe(200);
      const tossed = await request(tls.app).get('/dashboard').set('X-Forwarded-Proto', 'https').set('Cookie', `spawner.sid=${value}`);
      expectRedirect(tossed, '/login');
      const granted = await request(tls.app)
        .get(`/authorize?next=${encodeURIComponent('https://fred.tls.test/')}`)
        .set('X-Forwarded-Proto', 'https')
        .set('Cookie', `__Host-spawner.sid=${value}`);
      const callback = new URL(granted.headers.location!);
      const back = await verify(tls, { host: 'fred.tls.test', uri: `${callback.pathname}${callback.search}`, proto: 'https' });
      expect(([] as string[]).concat(back.headers['set-cookie'] ?? [])[0]).toMatch(
        /^__Host-spawner-access=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/,
      );
    } finally {
      await tls.close();
    }
  });
});
