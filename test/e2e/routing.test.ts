// Routing through the real Traefik v3.6, in both modes, with people's containers built from the
// real user-template and Spawner reached through the labels docker-compose.yml gives it (read with
// `docker-compose config`, served by the file provider to a Spawner on the host). Every test ends
// with Traefik's own view: the expected routers present, none disabled or in error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { dockerClient } from '../helpers/docker.js';
import { containerOf } from '../helpers/app.js';
import { personOn, SPAWNER_ROUTERS, startBothModes, type BothModes } from '../helpers/e2eSetup.js';
import { BROWSER_HEADERS, ProxyClient } from '../helpers/proxyClient.js';
import { eventually, viaTraefik, type Traefik } from '../helpers/traefik.js';
import { expectNoRouterErrors, reachesContainer, routers, serviceUp } from '../helpers/traefikChecks.js';
import type { RunningSpawner } from '../helpers/spawnerServer.js';

const runId = inject('runId');
const docker = dockerClient();
const SUB = 'apps.test';
const PATH = 'path.test';

let both: BothModes;
let traefik: Traefik;
let sub: RunningSpawner;
let path: RunningSpawner;
let subLabels: Record<string, string>;
let network: string;

/** Waits until Traefik's own route for `username`'s container answers host + path with their page. */
const reaches = async (s: RunningSpawner, username: string, host: string, path: string, ms = 15_000) =>
  reachesContainer(
    traefik,
    { host, path, container: (await containerOf(s, username)).name, headers: BROWSER_HEADERS },
    (html) => personOn(html) === username,
    ms,
  );

beforeAll(async () => {
  // Public services: this file is about routing; who may go in is access.test.ts's (the check
  // still runs on every request here, through the compose labels' forwardAuth).
  both = await startBothModes(runId, 'routing', { domains: { sub: SUB, path: PATH }, spawnerEnv: { SERVICE_ACCESS: 'public' } });
  ({ traefik, sub, path, subLabels, network } = both);
});

afterAll(async () => {
  await both?.stop();
});

describe('subdomain mode', () => {
  it('when alice and bob have signed up through Traefik, then each host reaches its own container and an unknown name reaches neither', async () => {
    for (const name of ['alice', 'bob']) {
      const signup = await new ProxyClient(traefik, `spawner.${SUB}`).signUp(name);
      expect(signup.status, signup.text.slice(0, 300)).toBe(303);
      expect(signup.location).toBe('/dashboard');
    }

    const alice = await reaches(sub, 'alice', `alice.${SUB}`, '/');
    expect(alice.text).toMatch(/id="spawner-user">alice</);
    expect(alice.text).toContain(`http://alice.${SUB}/`); // SPAWNER_PUBLIC_URL as the template shows it
    const bob = await reaches(sub, 'bob', `bob.${SUB}`, '/about.html');
    expect(bob.text).toContain('About this space');
    expect(bob.text).not.toContain('alice');

    const nobody = await viaTraefik(traefik, `nobody.${SUB}`, '/', { headers: BROWSER_HEADERS });
    // A name nobody has looks like a service that is not public: off to log in (no name probing).
    expect(nobody.status).toBe(302);
    expect(nobody.headers.location).toContain(`/authorize?next=${encodeURIComponent(`http://nobody.${SUB}`)}`);
    expect(personOn(nobody.text)).toBeUndefined();

    const { name: aliceContainer } = await containerOf(sub, 'alice');
    const { name: bobContainer } = await containerOf(sub, 'bob');
    const inspect = await docker.getContainer(aliceContainer).inspect();
    expect(Object.keys(inspect.NetworkSettings.Networks)).toEqual([network]);
    const seen = await expectNoRouterErrors(traefik, [...SPAWNER_ROUTERS, `${aliceContainer}@docker`, `${bobContainer}@docker`]);
    expect(seen.get(`${aliceContainer}@docker`)).toMatchObject({ rule: `Host(\`alice.${SUB}\`)`, entryPoints: ['web'], status: 'enabled' });
    expect(seen.get(`${bobContainer}@docker`)?.rule).toBe(`Host(\`bob.${SUB}\`)`);
    await serviceUp(traefik, `${aliceContainer}@docker`);
  });

  it("when Spawner is asked for at spawner.<domain>, then docker-compose.yml's labels route it there", async () => {
    // Spawner runs on the host's network: no traefik.docker.network, Traefik reaches it at 127.0.0.1.
    expect(subLabels).toMatchObject({ 'traefik.enable': 'true', 'traefik.http.services.spawner.loadbalancer.server.port': '5000' });
    expect(subLabels['traefik.docker.network']).toBeUndefined();
    const spawner = new ProxyClient(traefik, `spawner.${SUB}`);
    const login = await spawner.get('/login');
    expect(login.status).toBe(200);
    expect(login.text).toContain('Log in');
    expect(login.text).toContain('href="/static/style.css"');
    expect((await spawner.get('/static/style.css')).headers['content-type']).toMatch(/text\/css/);
    const health = await viaTraefik(traefik, `spawner.${SUB}`, '/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok' });
    // The bare domain is Spawner's too (same router).
    const bare = await viaTraefik(traefik, SUB, '/', { headers: BROWSER_HEADERS });
    expect(bare.status).toBe(303);
    expect(bare.headers.location).toBe('/login');

    const seen = await expectNoRouterErrors(traefik, SPAWNER_ROUTERS);
    expect(seen.get('spawner-sub@file')).toMatchObject({
      rule: subLabels['traefik.http.routers.spawner.rule'],
      priority: 2,
      entryPoints: ['web'],
      service: 'spawner-sub',
    });
    expect(seen.get('spawner-wake-sub@file')).toMatchObject({ priority: 1, service: 'spawner-sub' });
  });
});

describe('path mode', () => {
  it('when alice and bob have signed up, then /alice/ and /bob/… reach their own containers with the prefix stripped, and /alice redirects to /alice/', async () => {
    for (const name of ['alice', 'bob']) {
      const signup = await new ProxyClient(traefik, PATH).signUp(name, '/hub');
      expect(signup.status, signup.text.slice(0, 300)).toBe(303);
      expect(signup.location).toBe('/hub/dashboard');
    }
    // The container serves its page at `/`: it only answers /alice/ because Traefik strips /alice.
    const alice = await reaches(path, 'alice', PATH, '/alice/');
    expect(alice.text).toContain('<code id="spawner-base-path">/alice/</code>');
    const bob = await reaches(path, 'bob', PATH, '/bob/about.html');
    expect(bob.text).toContain('About this space');

    const bare = await viaTraefik(traefik, PATH, '/alice', { headers: BROWSER_HEADERS });
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe(`http://${PATH}/alice/`);
    const query = await viaTraefik(traefik, PATH, '/alice?tab=2', { headers: BROWSER_HEADERS });
    expect(query.status).toBe(301);
    expect(query.headers.location).toBe(`http://${PATH}/alice/?tab=2`);

    const { name: aliceContainer } = await containerOf(path, 'alice');
    const { name: bobContainer } = await containerOf(path, 'bob');
    const seen = await expectNoRouterErrors(traefik, [...SPAWNER_ROUTERS, `${aliceContainer}@docker`, `${bobContainer}@docker`]);
    expect(seen.get(`${aliceContainer}@docker`)).toMatchObject({
      rule: `Host(\`${PATH}\`) && (Path(\`/alice\`) || PathPrefix(\`/alice/\`))`,
      priority: 100,
      // The access check between the slash redirect and the prefix strip.
      middlewares: [`${aliceContainer}-slash@docker`, 'spawner-auth-path@file', `${aliceContainer}-strip@docker`],
    });
  });

  it('when alice2 exists next to alice, then /alice2/ never reaches alice, whether alice2 is stopped or running', async () => {
    const signup = await new ProxyClient(traefik, PATH).signUp('alice2', '/hub');
    expect(signup.status).toBe(303);
    const { user, name } = await containerOf(path, 'alice2');
    await reaches(path, 'alice2', PATH, '/alice2/');

    await path.services.containers.stop(user);
    // alice2's router is gone; `/alice2/` must fall through to Spawner (which would wake it), not to alice.
    const asleep = await eventually(
      async () => {
        const r = await viaTraefik(traefik, PATH, '/alice2/', { headers: { 'User-Agent': 'UptimeRobot/2.0' }, timeoutMs: 3000 });
        return r.status === 503 ? r : undefined;
      },
      10_000,
      "alice2's route to go",
    ).catch(async (error: unknown) => {
      const last = await viaTraefik(traefik, PATH, '/alice2/', { headers: { 'User-Agent': 'UptimeRobot/2.0' }, timeoutMs: 20_000 });
      throw new Error(
        `${String(error)}; last answer ${last.status} ${last.text.slice(0, 200)}; routers ${(await routers(traefik)).map((r) => r.name).join(' ')}`,
      );
    });
    expect(asleep.text).toContain('asleep');
    expect(personOn(asleep.text)).toBeUndefined();
    const bare = await viaTraefik(traefik, PATH, '/alice2', { headers: { 'User-Agent': 'UptimeRobot/2.0' } });
    expect([bare.status, bare.headers.location]).toEqual([301, '/alice2/']); // Spawner's own slash redirect, not alice's
    expect((await routers(traefik)).map((r) => r.name)).not.toContain(`${name}@docker`);

    await path.services.containers.ensureRunning(user);
    await reaches(path, 'alice2', PATH, '/alice2/');
    await reaches(path, 'alice', PATH, '/alice/');
    await expectNoRouterErrors(traefik, [...SPAWNER_ROUTERS, `${name}@docker`]);
  });

  it("when people have signed up, then Spawner's own pages stay reachable: /hub/…, / → /hub/, /health", async () => {
    const root = await viaTraefik(traefik, PATH, '/', { headers: BROWSER_HEADERS });
    expect(root.status).toBe(303);
    expect(root.headers.location).toBe('/hub/');
    const hub = await viaTraefik(traefik, PATH, '/hub/', { headers: BROWSER_HEADERS });
    expect(hub.status).toBe(303);
    expect(hub.headers.location).toBe('/hub/login');
    const login = await viaTraefik(traefik, PATH, '/hub/login', { headers: BROWSER_HEADERS });
    expect(login.status).toBe(200);
    expect(login.text).toContain('Log in');
    expect((await viaTraefik(traefik, PATH, '/hub/static/style.css')).headers['content-type']).toMatch(/text\/css/);
    const health = await viaTraefik(traefik, PATH, '/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok' });
    // Spawner's cookies stay under /hub, so people's containers never see them: the login form's
    // CSRF cookie here (a visit starts no session; the session cookie's Path=/hub is checked at
    // login in test/http/cookies.test.ts).
    const cookie = String((await viaTraefik(traefik, PATH, '/hub/login', { headers: BROWSER_HEADERS })).headers['set-cookie']);
    expect(cookie).toMatch(/^spawner\.csrf=[^;]+; Path=\/hub;/);
    expect(cookie).not.toContain('spawner.sid');
    await expectNoRouterErrors(traefik, SPAWNER_ROUTERS);
  });

  it("when someone tries to sign up as hub, health, login or another of Spawner's paths, then it is refused and no route is made", async () => {
    const client = new ProxyClient(traefik, PATH);
    for (const name of ['hub', 'health', 'login', 'signup', 'static', 'dashboard']) {
      const response = await client.signUp(name, '/hub');
      expect(response.status, name).toBe(422);
      expect(response.text).toContain('This name is reserved');
      expect(await path.services.users.findByUsername(name), name).toBeUndefined();
    }
    const containers = await docker.listContainers({ all: true, filters: { label: [`spawner.username=hub`] } });
    expect(containers).toEqual([]);
    const rules = (await routers(traefik)).filter((r) => r.provider === 'docker').map((r) => r.rule);
    for (const rule of rules) expect(rule).not.toMatch(/\/(hub|health|login|signup|static|dashboard)`/);
    expect((await viaTraefik(traefik, PATH, '/hub/login', { headers: BROWSER_HEADERS })).text).toContain('Log in');
    expect((await viaTraefik(traefik, PATH, '/health')).status).toBe(200);
    await expectNoRouterErrors(traefik, SPAWNER_ROUTERS);
  });

  it("when a person's page links to other pages and a stylesheet, then every relative link works under the prefix", async () => {
    const start = await reaches(path, 'alice', PATH, '/alice/');
    const base = new URL(`http://${PATH}/alice/`);
    const hrefs = [...start.text.matchAll(/(?:href|src)="([^"#]+)"/g)].map((m) => m[1]!).filter((h) => !h.startsWith('data:'));
    expect(hrefs).toEqual(expect.arrayContaining(['style.css', 'about.html']));
    for (const href of hrefs) {
      const target = new URL(href, base);
      expect(target.host, href).toBe(PATH);
      expect(target.pathname.startsWith('/alice/'), href).toBe(true);
      const response = await viaTraefik(traefik, PATH, target.pathname + target.search, { headers: BROWSER_HEADERS });
      expect(response.status, href).toBe(200);
      if (href.endsWith('.css')) expect(response.headers['content-type'], href).toMatch(/text\/css/);
      else expect(personOn(response.text), href).toBe('alice');
    }
    // And back from the about page: `./` resolves to alice's start page.
    const about = await viaTraefik(traefik, PATH, '/alice/about.html', { headers: BROWSER_HEADERS });
    const back = /<a href="([^"]+)">&larr;/.exec(about.text)?.[1];
    expect(back).toBe('./');
    expect(new URL(back!, new URL(`http://${PATH}/alice/about.html`)).pathname).toBe('/alice/');
    await expectNoRouterErrors(traefik, SPAWNER_ROUTERS);
  });
});

describe('lifecycle through the proxy', () => {
  it('when a person restarts from the dashboard (POST with CSRF, through Traefik), then the route comes back', async () => {
    const client = new ProxyClient(traefik, `spawner.${SUB}`);
    expect((await client.signUp('restarter')).status).toBe(303);
    const { name } = await containerOf(sub, 'restarter');
    await reaches(sub, 'restarter', `restarter.${SUB}`, '/');
    const before = (await docker.getContainer(name).inspect()).State.StartedAt;

    const clicked = Date.now();
    const restart = await client.submit('/dashboard', '/container/restart');
    expect(restart.status, restart.text.slice(0, 300)).toBe(303);
    expect(restart.location).toBe('/dashboard');
    expect((await client.get('/dashboard')).text).toContain('Your container was restarted.');
    const after = await docker.getContainer(name).inspect();
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).not.toBe(before);

    await reaches(sub, 'restarter', `restarter.${SUB}`, '/', 15_000);
    const back = Date.now() - clicked;
    expect(back).toBeLessThan(15_000);
    const seen = await expectNoRouterErrors(traefik, [...SPAWNER_ROUTERS, `${name}@docker`]);
    expect(seen.get(`${name}@docker`)?.status).toBe('enabled');
  });
});
