// Owner-only access end to end, through the real Traefik v3.6.5 and the forwardAuth middleware
// docker-compose.yml defines (pointed at the host-run Spawner), in both routing modes: an
// anonymous browser logs in and lands on the exact URL, bob gets 403, alice 200, a public service
// lets anyone in, the container never sees Spawner's cookies, logout ends the access cookie, and a
// stranger's request to a stopped service starts nothing.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { containerOf } from '../helpers/app.js';
import { dockerClient } from '../helpers/docker.js';
import { startBothModes, type BothModes, type ServiceMode } from '../helpers/e2eSetup.js';
import { BROWSER_HEADERS, ProxyClient } from '../helpers/proxyClient.js';
import { TEST_IMAGE } from '../helpers/testImage.js';
import { viaTraefik } from '../helpers/traefik.js';
import { expectNoRouterErrors, routerEnabled } from '../helpers/traefikChecks.js';

const runId = inject('runId');
const docker = dockerClient();
const SUB = 'access.test';
const PATH = 'access-path.test';
let both: BothModes;

beforeAll(async () => {
  // The busybox test image: its cgi-bin/headers echoes the Cookie and X-Spawner-User it got.
  both = await startBothModes(runId, 'access', { domains: { sub: SUB, path: PATH }, spawnerEnv: { USER_TEMPLATE_IMAGE: TEST_IMAGE } });
}, 120_000);

afterAll(async () => {
  await both?.stop();
});

type Mode = ServiceMode;

const modes: Mode[] = [
  { label: 'subdomain mode', spawner: () => both.sub, home: `spawner.${SUB}`, base: '', host: (n) => `${n}.${SUB}`, prefix: () => '' },
  { label: 'path mode', spawner: () => both.path, home: PATH, base: '/hub', host: () => PATH, prefix: (n) => `/${n}` },
];

/** GET on a person's address as a browser, with the cookies given. */
const browse = (host: string, path: string, cookie?: string) =>
  viaTraefik(both.traefik, host, path, { headers: { ...BROWSER_HEADERS, ...(cookie ? { cookie } : {}) } });

describe.each(modes)('$label', (mode) => {
  const url = (name: string, path: string) => `http://${mode.host(name)}${mode.prefix(name)}${path}`;
  const sessions: Record<string, ProxyClient> = {};

  /** Follows authorize → callback for a logged-in session; resolves to the access cookie pair. */
  async function accessCookie(session: ProxyClient, name: string, path: string): Promise<string> {
    const granted = await session.get(`${mode.base}/authorize?next=${encodeURIComponent(url(name, path))}`);
    expect(granted.status, granted.text.slice(0, 200)).toBe(302);
    const callback = new URL(granted.location!);
    const back = await browse(callback.host, `${callback.pathname}${callback.search}`);
    expect(back.status).toBe(302);
    expect(back.headers.location).toBe(url(name, path));
    return String(([] as string[]).concat(back.headers['set-cookie'] ?? [])[0]).split(';')[0]!;
  }

  beforeAll(async () => {
    for (const name of ['alice', 'bob', 'carol']) {
      sessions[name] = new ProxyClient(both.traefik, mode.home);
      const signup = await sessions[name].signUp(name, mode.base);
      expect(signup.status, signup.text.slice(0, 300)).toBe(303);
      await routerEnabled(both.traefik, `${(await containerOf(mode.spawner(), name)).name}@docker`);
    }
    await expectNoRouterErrors(both.traefik);
  }, 120_000);

  it('when an anonymous browser opens alice’s service, then it logs in and lands on the exact URL, and the page is hers', async () => {
    const asked = url('alice', '/index.html?from=mail');
    const first = await browse(mode.host('alice'), `${mode.prefix('alice')}/index.html?from=mail`);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe(`http://${mode.home}${mode.base}/authorize?next=${encodeURIComponent(asked)}`);
    const visitor = new ProxyClient(both.traefik, mode.home);
    const { authorize, loggedIn } = await visitor.logInFrom(String(first.headers.location), mode.base, 'alice');
    expect(loggedIn.location).toBe(`${authorize.pathname}${authorize.search}`);
    const granted = await visitor.get(loggedIn.location!);
    const callback = new URL(granted.location!);
    const back = await browse(callback.host, `${callback.pathname}${callback.search}`);
    expect(back.headers.location).toBe(asked);
    const cookie = String(([] as string[]).concat(back.headers['set-cookie'] ?? [])[0]).split(';')[0]!;
    const page = await browse(mode.host('alice'), `${mode.prefix('alice')}/index.html?from=mail`, cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Hello alice');
  });

  it('when bob asks for alice’s service, then 403 and no code; a program without a cookie gets 401', async () => {
    const refused = await sessions.bob!.get(`${mode.base}/authorize?next=${encodeURIComponent(url('alice', '/'))}`);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('data-refused="access_denied"');
    const program = await viaTraefik(both.traefik, mode.host('alice'), `${mode.prefix('alice')}/`, {
      headers: { Accept: 'application/json' },
    });
    expect(program.status).toBe(401);
    expect(JSON.parse(program.text)).toMatchObject({ error: 'login_required' });
  });

  it('when alice’s request reaches her container, then it carries her other cookies, not Spawner’s, and X-Spawner-User', async () => {
    const cookie = await accessCookie(sessions.alice!, 'alice', '/cgi-bin/headers');
    const echoed = await viaTraefik(both.traefik, mode.host('alice'), `${mode.prefix('alice')}/cgi-bin/headers`, {
      headers: { ...BROWSER_HEADERS, cookie: `theme=dark; ${cookie}; spawner.sid=s%3Aforged; lang=en`, 'X-Spawner-User': 'mallory' },
    });
    expect(echoed.status).toBe(200);
    expect(echoed.text).toContain('cookie=theme=dark; lang=en\n');
    expect(echoed.text).toContain('user=alice\n');
  });

  it('when carol makes her service public, then anyone reaches it, with no X-Spawner-User', async () => {
    const made = await sessions.carol!.submit(`${mode.base}/dashboard`, `${mode.base}/access/visibility`, { visibility: 'public' });
    expect(made.status).toBe(303);
    const page = await browse(mode.host('carol'), `${mode.prefix('carol')}/cgi-bin/headers`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('user=\n');
  });

  it('when carol shares her service with bob, then bob gets in through Traefik; when she stops sharing, then his cookie is refused', async () => {
    const made = await sessions.carol!.submit(`${mode.base}/dashboard`, `${mode.base}/access/visibility`, { visibility: 'owner' });
    expect(made.status).toBe(303);
    expect((await sessions.bob!.get(`${mode.base}/authorize?next=${encodeURIComponent(url('carol', '/'))}`)).status).toBe(403);
    expect((await sessions.carol!.submit(`${mode.base}/dashboard`, `${mode.base}/access/share`, { share: 'bob' })).status).toBe(303);
    const cookie = await accessCookie(sessions.bob!, 'carol', '/cgi-bin/headers');
    const page = await browse(mode.host('carol'), `${mode.prefix('carol')}/cgi-bin/headers`, cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('user=bob\n');
    expect((await sessions.carol!.submit(`${mode.base}/dashboard`, `${mode.base}/access/unshare`, { name: 'bob' })).status).toBe(303);
    expect((await browse(mode.host('carol'), `${mode.prefix('carol')}/cgi-bin/headers`, cookie)).status).toBe(302);
  });

  it('when alice logs out, then her access cookie is refused', async () => {
    const cookie = await accessCookie(sessions.alice!, 'alice', '/');
    expect((await browse(mode.host('alice'), `${mode.prefix('alice')}/`, cookie)).status).toBe(200);
    expect((await sessions.alice!.submit(`${mode.base}/dashboard`, `${mode.base}/logout`)).status).toBe(303);
    expect((await browse(mode.host('alice'), `${mode.prefix('alice')}/`, cookie)).status).toBe(302);
  });

  it('when bob’s service is stopped, then a stranger’s request starts nothing', async () => {
    const { user, name } = await containerOf(mode.spawner(), 'bob');
    await mode.spawner().services.containers.stop(user);
    const before = (await docker.getContainer(name).inspect()).State;
    expect(before.Running).toBe(false);
    // Traefik has no route for a stopped container: the fallback reaches Spawner's wake route.
    for (let i = 0; i < 5; i++) expect((await browse(mode.host('bob'), `${mode.prefix('bob')}/`)).status).toBe(302);
    const after = (await docker.getContainer(name).inspect()).State;
    expect([after.Running, after.StartedAt]).toEqual([false, before.StartedAt]);
  });
});
