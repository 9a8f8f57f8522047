// Owner-only access over HTTPS and through a websocket, end to end through the real Traefik v3.6.5
// in both routing modes: the TLS labels of docker-compose.tls.yml, a certificate resolver whose
// ACME port is closed (Traefik serves its self-signed default certificate, offline). An anonymous
// browser logs in and lands back on the exact https URL; the cookies are the __Host- ones where the
// mode allows; alice 200, bob 403. People's containers run a websocket echo (Node, no packages):
// alice's upgrade goes through the check and echoes; without a cookie it is refused with 401 and
// a stranger's cookie with 403, and neither upgrade ever reaches the container.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { containerOf } from '../helpers/app.js';
import { dockerClient } from '../helpers/docker.js';
import { startBothModes, type BothModes, type ServiceMode } from '../helpers/e2eSetup.js';
import { BROWSER_HEADERS, ProxyClient, type ProxiedResponse } from '../helpers/proxyClient.js';
import { offlineResolverArgs, viaTraefik } from '../helpers/traefik.js';
import { expectNoRouterErrors, reachesContainer, routerEnabled } from '../helpers/traefikChecks.js';
import { buildWebSocketImage, openWebSocket } from '../helpers/websocket.js';

const runId = inject('runId');
const docker = dockerClient();
const SUB = 'vault.test';
const PATH = 'vaultpath.test';
const RESOLVER = 'testca';
let both: BothModes;

beforeAll(async () => {
  const image = buildWebSocketImage();
  both = await startBothModes(runId, 'access-tls', {
    domains: { sub: SUB, path: PATH },
    composeFiles: ['docker-compose.yml', 'docker-compose.tls.yml'],
    env: { TRAEFIK_CERTRESOLVER: RESOLVER },
    spawnerEnv: { USER_TEMPLATE_IMAGE: image },
    traefik: {
      tls: true,
      args: await offlineResolverArgs(RESOLVER),
    },
  });
}, 180_000);

afterAll(async () => {
  await both?.stop();
});

interface Mode extends ServiceMode {
  /** Spawner's session cookie over HTTPS, and a person's access cookie, with their paths. */
  session: { name: string; path: string };
  access: (name: string) => { name: string; path: string };
}

const modes: Mode[] = [
  {
    label: 'subdomain mode',
    spawner: () => both.sub,
    home: `spawner.${SUB}`,
    base: '',
    host: (n) => `${n}.${SUB}`,
    prefix: () => '',
    session: { name: '__Host-spawner.sid', path: '/' },
    access: () => ({ name: '__Host-spawner-access', path: '/' }),
  },
  {
    label: 'path mode',
    spawner: () => both.path,
    home: PATH,
    base: '/hub',
    host: () => PATH,
    prefix: (n) => `/${n}`,
    // `__Host-` forbids a Path other than /, and path mode's cookies live under their prefixes.
    session: { name: 'spawner.sid', path: '/hub' },
    access: (n) => ({ name: `spawner-access-${n}`, path: `/${n}/` }),
  },
];

const browse = (host: string, path: string, cookie?: string) =>
  viaTraefik(both.traefik, host, path, { secure: true, headers: { ...BROWSER_HEADERS, ...(cookie ? { cookie } : {}) } });

const setCookies = (r: { headers: Record<string, string | string[] | undefined> }) =>
  ([] as string[]).concat(r.headers['set-cookie'] ?? []);

/** `name=value` and the attributes of a Set-Cookie line, lower-cased names. */
function parseSetCookie(line: string): { pair: string; name: string; attributes: Map<string, string> } {
  const [pair, ...rest] = line.split(';').map((s) => s.trim());
  const attributes = new Map(rest.map((a) => [a.split('=')[0]!.toLowerCase(), a.includes('=') ? a.slice(a.indexOf('=') + 1) : '']));
  return { pair: pair!, name: pair!.slice(0, pair!.indexOf('=')), attributes };
}

/** The websocket upgrades that reached the container, asked on its own address on this file's network. */
async function upgradesSeen(container: string): Promise<string[]> {
  const info = await docker.getContainer(container).inspect();
  const ip = info.NetworkSettings.Networks[both.network]?.IPAddress;
  if (!ip) throw new Error(`${container} has no address on ${both.network}`);
  const response = await fetch(`http://${ip}:8080/.upgrades`, { signal: AbortSignal.timeout(5000) });
  return (await response.json()) as string[];
}

describe.each(modes)('$label over HTTPS', (mode) => {
  const url = (name: string, path: string) => `https://${mode.host(name)}${mode.prefix(name)}${path}`;
  const sessions: Record<string, ProxyClient> = {};
  const signups: Record<string, ProxiedResponse> = {};

  /** authorize → callback for a logged-in session; the access cookie's Set-Cookie line. */
  async function accessCookie(session: ProxyClient, name: string, path: string): Promise<string> {
    const granted = await session.get(`${mode.base}/authorize?next=${encodeURIComponent(url(name, path))}`);
    expect(granted.status, granted.text.slice(0, 200)).toBe(302);
    const callback = new URL(granted.location!);
    expect(callback.protocol).toBe('https:');
    const back = await browse(callback.host, `${callback.pathname}${callback.search}`);
    expect(back.status).toBe(302);
    expect(back.headers.location).toBe(url(name, path));
    return setCookies(back)[0]!;
  }

  beforeAll(async () => {
    for (const name of ['alice', 'bob']) {
      sessions[name] = new ProxyClient(both.traefik, mode.home, { secure: true });
      signups[name] = await sessions[name].signUp(name, mode.base);
      expect(signups[name].status, signups[name].text.slice(0, 300)).toBe(303);
      const { name: container } = await containerOf(mode.spawner(), name);
      await routerEnabled(both.traefik, `${container}@docker`);
    }
    await expectNoRouterErrors(both.traefik);
  }, 120_000);

  it('when someone signs up over HTTPS, then the session cookie is the mode’s own, Secure, HttpOnly, at its path', () => {
    const session = setCookies(signups.alice!)
      .map(parseSetCookie)
      .find((c) => c.name.endsWith('spawner.sid'))!;
    expect(session.name).toBe(mode.session.name);
    expect(session.attributes.get('path')).toBe(mode.session.path);
    expect(session.attributes.has('secure')).toBe(true);
    expect(session.attributes.has('httponly')).toBe(true);
    expect(session.attributes.has('domain')).toBe(false);
  });

  it('when an anonymous browser opens alice’s https URL, then it logs in and lands on the exact https URL with a __Host-/Secure access cookie', async () => {
    const asked = url('alice', '/notes/today?tab=2');
    const first = await browse(mode.host('alice'), `${mode.prefix('alice')}/notes/today?tab=2`);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe(`https://${mode.home}${mode.base}/authorize?next=${encodeURIComponent(asked)}`);

    const visitor = new ProxyClient(both.traefik, mode.home, { secure: true });
    const { authorize, loggedIn } = await visitor.logInFrom(String(first.headers.location), mode.base, 'alice');
    expect(loggedIn.location).toBe(`${authorize.pathname}${authorize.search}`);
    expect(visitor.cookieNames()).toContain(mode.session.name);
    const granted = await visitor.get(loggedIn.location!);
    const callback = new URL(granted.location!);
    expect(`${callback.protocol}//${callback.host}`).toBe(`https://${mode.host('alice')}`);
    const back = await browse(callback.host, `${callback.pathname}${callback.search}`);
    expect(back.headers.location).toBe(asked);

    const cookie = parseSetCookie(setCookies(back)[0]!);
    expect(cookie.name).toBe(mode.access('alice').name);
    expect(cookie.attributes.get('path')).toBe(mode.access('alice').path);
    expect(cookie.attributes.has('secure')).toBe(true);
    expect(cookie.attributes.has('httponly')).toBe(true);
    expect(cookie.attributes.get('samesite')?.toLowerCase()).toBe('lax');
    expect(cookie.attributes.has('domain')).toBe(false);

    const page = await browse(mode.host('alice'), `${mode.prefix('alice')}/notes/today?tab=2`, cookie.pair);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Hello alice');
    // The same cookie over plain HTTP: no router there at all (the service is HTTPS only).
    expect(
      (await viaTraefik(both.traefik, mode.host('alice'), `${mode.prefix('alice')}/`, { headers: { cookie: cookie.pair } })).status,
    ).toBe(404);
  });

  it('when bob asks for alice’s service over HTTPS, then 403 and no code; his own service’s cookie does not open hers', async () => {
    const refused = await sessions.bob!.get(`${mode.base}/authorize?next=${encodeURIComponent(url('alice', '/'))}`);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('data-refused="access_denied"');
    expect(refused.location).toBeUndefined();
    const own = parseSetCookie(await accessCookie(sessions.bob!, 'bob', '/'));
    expect((await browse(mode.host('bob'), `${mode.prefix('bob')}/`, own.pair)).text).toContain('Hello bob');
    const elsewhere = await browse(mode.host('alice'), `${mode.prefix('alice')}/`, own.pair);
    expect(elsewhere.status).toBe(302);
    expect(String(elsewhere.headers.location)).toContain('/authorize?next=');
  });

  it('when alice opens a websocket with her cookie, then it upgrades through the check and echoes; without a cookie 401, with bob’s 403, and neither reaches her container', async () => {
    const { user, name: container } = await containerOf(mode.spawner(), 'alice');
    await reachesContainer(
      both.traefik,
      {
        host: mode.host('alice'),
        path: `${mode.prefix('alice')}/`,
        container,
        secure: true,
        headers: { cookie: parseSetCookie(await accessCookie(sessions.alice!, 'alice', '/')).pair },
      },
      (html) => html.includes('Hello alice'),
    );
    const aliceCookie = parseSetCookie(await accessCookie(sessions.alice!, 'alice', '/ws')).pair;
    const before = (await upgradesSeen(container)).length;

    const ws = await openWebSocket(both.traefik, {
      host: mode.host('alice'),
      path: `${mode.prefix('alice')}/ws`,
      secure: true,
      cookie: `theme=dark; ${aliceCookie}`,
    });
    expect(ws.upgraded, ws.upgraded ? '' : `${ws.status} ${ws.text.slice(0, 200)}`).toBe(true);
    if (!ws.upgraded) return;
    expect(await ws.echo('hello through the check')).toBe('alice echoes: hello through the check');
    expect(await ws.echo('and again')).toBe('alice echoes: and again');
    const seen = await upgradesSeen(container);
    expect(seen.length).toBe(before + 1);
    // Checked at the upgrade like any request: the container got her identity, not Spawner's cookies.
    expect(seen.at(-1)).toContain('user=alice cookie=theme=dark');
    expect(seen.at(-1)).not.toContain('spawner');

    const anonymous = await openWebSocket(both.traefik, { host: mode.host('alice'), path: `${mode.prefix('alice')}/ws`, secure: true });
    expect(anonymous.upgraded).toBe(false);
    if (!anonymous.upgraded) expect(anonymous.status).toBe(401);

    // Bob holds a valid cookie for alice's service from while it was public; owner-only again, it names him and he is refused.
    await mode.spawner().services.access.setVisibility(user, 'public');
    const bobsCookie = parseSetCookie(await accessCookie(sessions.bob!, 'alice', '/ws')).pair;
    await mode.spawner().services.access.setVisibility(user, 'owner');
    const stranger = await openWebSocket(both.traefik, {
      host: mode.host('alice'),
      path: `${mode.prefix('alice')}/ws`,
      secure: true,
      cookie: bobsCookie,
    });
    expect(stranger.upgraded).toBe(false);
    if (!stranger.upgraded) expect(stranger.status).toBe(403);
    const page = await browse(mode.host('alice'), `${mode.prefix('alice')}/`, bobsCookie);
    expect(page.status).toBe(403);
    expect(page.text).toContain('data-refused="access_denied"');

    expect((await upgradesSeen(container)).length).toBe(before + 1);

    // Checked once, at the upgrade: after alice logs out her open websocket still echoes, and a new
    // upgrade with the same cookie is refused.
    try {
      expect((await sessions.alice!.submit(`${mode.base}/dashboard`, `${mode.base}/logout`)).status).toBe(303);
      expect(await ws.echo('still open')).toBe('alice echoes: still open');
      const again = await openWebSocket(both.traefik, {
        host: mode.host('alice'),
        path: `${mode.prefix('alice')}/ws`,
        secure: true,
        cookie: aliceCookie,
      });
      expect(again.upgraded ? 101 : again.status).toBe(401);
    } finally {
      ws.close();
    }
    expect((await upgradesSeen(container)).length).toBe(before + 1);
  });
});

describe('while Spawner is down', () => {
  it('when the access check cannot be reached, then Traefik answers 500 for the service (it does not fail open), and serves again once Spawner is back', async () => {
    const session = new ProxyClient(both.traefik, `spawner.${SUB}`, { secure: true });
    expect((await session.signUp('olga')).status).toBe(303);
    const { name: container } = await containerOf(both.sub, 'olga');
    await routerEnabled(both.traefik, `${container}@docker`);
    const granted = await session.get(`/authorize?next=${encodeURIComponent(`https://olga.${SUB}/`)}`);
    const callback = new URL(granted.location!);
    const cookie = setCookies(await browse(callback.host, `${callback.pathname}${callback.search}`))[0]!.split(';')[0]!;
    await reachesContainer(both.traefik, { host: `olga.${SUB}`, path: '/', container, secure: true, headers: { cookie } }, (html) =>
      html.includes('Hello olga'),
    );

    // Spawner stops listening (as during a restart); the container keeps running.
    const { server, port } = both.sub;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    try {
      for (const path of ['/', '/index.html']) {
        const down = await browse(`olga.${SUB}`, path, cookie);
        expect(down.status).toBe(500);
        expect(down.text).not.toContain('Hello olga');
      }
      const ws = await openWebSocket(both.traefik, { host: `olga.${SUB}`, path: '/ws', secure: true, cookie });
      expect(ws.upgraded ? 101 : ws.status).toBe(500);
    } finally {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    }
    expect((await browse(`olga.${SUB}`, '/', cookie)).text).toContain('Hello olga');
    expect(await upgradesSeen(container)).toEqual([]);
  });
});
