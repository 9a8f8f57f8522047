// The access check on Spawner's own wake route and forwarder (Traefik's fallback while a service
// sleeps, and the whole path when there is no Traefik, as on README's first run), on the real
// engine: a stranger's request starts nothing, and the owner's round trip ends on the service's
// page with Spawner's cookies removed before the container sees the request.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import request, { type Agent } from 'supertest';
import { buildTestApp, containerOf, type TestApp } from '../helpers/app.js';
import { createTestNetwork, dockerClient } from '../helpers/docker.js';
import { expectRedirect, signUp } from '../helpers/http.js';

const runId = inject('runId');
const docker = dockerClient();
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36';
let t: TestApp;
let alice: Agent;

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-access-wake`);
  // BASE_DOMAIN=localhost, as on the first run: http://<name>.localhost/ through Spawner itself.
  t = buildTestApp({ runId, env: { TRAEFIK_NETWORK: network, BASE_DOMAIN: 'localhost' } });
  alice = request.agent(t.app);
  expectRedirect(await signUp(alice, { username: 'alice' }), '/dashboard');
});

afterAll(async () => {
  await t?.close();
});

const onService = (path: string, name = 'alice') =>
  request(t.app).get(path).set('Host', `${name}.localhost`).set('User-Agent', BROWSER).set('Accept', 'text/html');

/** Login redirect → authorize → callback, by hand, the way the browser follows them. */
async function roundTrip(path: string): Promise<string> {
  const first = await onService(path);
  expect(first.status).toBe(302);
  expect(first.headers.location).toBe(`http://spawner.localhost/authorize?next=${encodeURIComponent(`http://alice.localhost${path}`)}`);
  const authorize = new URL(first.headers.location!);
  const granted = await alice.get(`${authorize.pathname}${authorize.search}`).set('Host', 'spawner.localhost');
  expect(granted.status).toBe(302);
  const callback = new URL(granted.headers.location!);
  expect(callback.host).toBe('alice.localhost');
  const back = await onService(`${callback.pathname}${callback.search}`);
  expect(back.status).toBe(302);
  expect(back.headers.location).toBe(`http://alice.localhost${path}`);
  return ([] as string[]).concat(back.headers['set-cookie'] ?? [])[0]!.split(';')[0]!;
}

/** Running, and when it last started: a refused request must change neither. */
async function state(name: string) {
  const { State } = await docker.getContainer(name).inspect();
  return { running: State.Running, startedAt: State.StartedAt };
}

describe('the wake route obeys the access check', () => {
  it("when a stranger asks for a stopped service (browser, program, someone else's cookie), then nothing starts", async () => {
    const { user, name } = await containerOf(t, 'alice');
    await t.services.containers.stop(user);
    const before = await state(name);
    expect(before.running).toBe(false);
    expect((await onService('/')).status).toBe(302);
    const program = await request(t.app).get('/data.json').set('Host', 'alice.localhost').set('User-Agent', 'Mozilla/5.0 script');
    expect(program.status).toBe(401);
    expect(program.body).toMatchObject({ error: 'login_required' });
    expect((await onService('/').set('Cookie', 'spawner-access=1.99999999999.0.forged')).status).toBe(302);
    expect((await onService('/.spawner/wake-events')).status).toBe(302);
    // The wake would have begun within these requests; give Docker a bounded moment to show one.
    for (let i = 0; i < 10; i++) {
      expect(await state(name)).toEqual(before);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('when the owner follows the round trip with no Traefik (the first run), then the template page answers', async () => {
    const cookie = await roundTrip('/');
    const page = await onService('/').set('Cookie', cookie);
    expect([200, 503]).toContain(page.status); // the service (or, if it starts slowly, its starting page)
    const { name } = await containerOf(t, 'alice');
    for (let i = 0; i < 100 && !(await state(name)).running; i++) await new Promise((r) => setTimeout(r, 100));
    let served = page;
    for (let i = 0; i < 50 && !served.text.includes('Hello alice'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      served = await onService('/').set('Cookie', cookie);
    }
    expect(served.status).toBe(200);
    expect(served.text).toContain('Hello alice');
  });

  it('when the forwarder passes the request on, then the container sees no Spawner cookie and an X-Spawner-User it cannot forge', async () => {
    const cookie = await roundTrip('/cgi-bin/headers');
    const echoed = await onService('/cgi-bin/headers')
      .set('Cookie', `theme=dark; ${cookie}; spawner.sid=s%3Aabc; lang=en`)
      .set('X-Spawner-User', 'mallory');
    expect(echoed.status).toBe(200);
    expect(echoed.text).toContain('cookie=theme=dark; lang=en\n');
    expect(echoed.text).toContain('user=alice\n');
  });
});
