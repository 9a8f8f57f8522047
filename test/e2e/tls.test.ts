// HTTPS through the real Traefik: with TRAEFIK_CERTRESOLVER set, people's routers and Spawner's own
// (docker-compose.yml + docker-compose.tls.yml) sit on the TLS entrypoint with the resolver, Traefik
// reports them enabled without errors, and HTTPS requests reach the containers. The resolver's ACME
// server is a closed loopback port, so Traefik accepts the resolver, fails to get certificates (no
// internet needed) and serves its self-signed default certificate, which is enough to check routing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { containerOf } from '../helpers/app.js';
import { personOn, SPAWNER_ROUTERS, startBothModes, type BothModes } from '../helpers/e2eSetup.js';
import { ProxyClient } from '../helpers/proxyClient.js';
import { eventually, offlineResolverArgs, viaTraefik, type Traefik } from '../helpers/traefik.js';
import { configErrorsInLog, expectNoRouterErrors, logText, reachesContainer } from '../helpers/traefikChecks.js';
import type { RunningSpawner } from '../helpers/spawnerServer.js';

const runId = inject('runId');
const SUB = 'secure.test';
const PATH = 'securepath.test';
const RESOLVER = 'testca';

let both: BothModes;
let traefik: Traefik;
let sub: RunningSpawner;
let path: RunningSpawner;

beforeAll(async () => {
  both = await startBothModes(runId, 'tls', {
    domains: { sub: SUB, path: PATH },
    composeFiles: ['docker-compose.yml', 'docker-compose.tls.yml'],
    env: { TRAEFIK_CERTRESOLVER: RESOLVER },
    // Public services: this file is about TLS routing (the check runs, and lets everyone in).
    spawnerEnv: { SERVICE_ACCESS: 'public' },
    traefik: {
      tls: true,
      args: await offlineResolverArgs(RESOLVER),
    },
  });
  ({ traefik, sub, path } = both);
});

afterAll(async () => {
  await both?.stop();
});

describe('HTTPS labels', () => {
  it("when a cert resolver is set, then a person's router and Spawner's own are enabled on the TLS entrypoint and HTTPS reaches the container", async () => {
    const spawner = new ProxyClient(traefik, `spawner.${SUB}`, { secure: true });
    const signup = await spawner.signUp('carol');
    expect(signup.status, signup.text.slice(0, 300)).toBe(303);
    expect(String(signup.headers['set-cookie'])).toMatch(/spawner\.sid=.*; Secure/);
    const dashboard = await spawner.get('/dashboard');
    expect(dashboard.text).toContain(`href="https://carol.${SUB}/"`);

    const { name } = await containerOf(sub, 'carol');
    const page = await reachesContainer(
      traefik,
      { host: `carol.${SUB}`, path: '/', container: name, secure: true },
      (html) => personOn(html) === 'carol',
    );
    expect(page.text).toContain(`https://carol.${SUB}/`);

    const seen = await expectNoRouterErrors(traefik, [...SPAWNER_ROUTERS, `${name}@docker`]);
    for (const router of [`${name}@docker`, 'spawner-sub@file', 'spawner-wake-sub@file']) {
      expect(seen.get(router), router).toMatchObject({ entryPoints: ['websecure'], tls: { certResolver: RESOLVER }, status: 'enabled' });
    }
    // Nothing of this person's is served over plain HTTP: no router on `web` for the host.
    const plain = await viaTraefik(traefik, `carol.${SUB}`, '/');
    expect(plain.status).toBe(404);
    expect(personOn(plain.text)).toBeUndefined();
    // Traefik did try the resolver (so it accepted it) and logged no router configuration error.
    await eventually(async () => logText(traefik).includes(`providerName=${RESOLVER}.acme`), 10_000, 'the ACME resolver to start');
    expect(configErrorsInLog(traefik)).toEqual([]);
  });

  it('when a stopped service is asked over HTTPS, then the fallback router on the TLS entrypoint answers for it', async () => {
    const spawner = new ProxyClient(traefik, `spawner.${SUB}`, { secure: true });
    expect((await spawner.signUp('dozer')).status).toBe(303);
    const { user, name } = await containerOf(sub, 'dozer');
    await reachesContainer(
      traefik,
      { host: `dozer.${SUB}`, path: '/', container: name, secure: true },
      (html) => personOn(html) === 'dozer',
    );
    await sub.services.containers.stop(user);
    const asleep = await eventually(
      async () => {
        const r = await viaTraefik(traefik, `dozer.${SUB}`, '/', {
          secure: true,
          headers: { 'User-Agent': 'UptimeRobot/2.0' },
          timeoutMs: 3000,
        });
        return r.status === 503 ? r : undefined;
      },
      10_000,
      'the fallback route over HTTPS',
    );
    expect(asleep.text).toContain('asleep');
    await expectNoRouterErrors(traefik, SPAWNER_ROUTERS);
  });

  it('when path mode runs behind HTTPS, then /<name> redirects to https://…/<name>/ and the page is served over TLS', async () => {
    const spawner = new ProxyClient(traefik, PATH, { secure: true });
    const signup = await spawner.signUp('erin', '/hub');
    expect(signup.status, signup.text.slice(0, 300)).toBe(303);
    expect(signup.location).toBe('/hub/dashboard');
    const { name } = await containerOf(path, 'erin');
    await reachesContainer(traefik, { host: PATH, path: '/erin/', container: name, secure: true }, (html) => personOn(html) === 'erin');

    const bare = await viaTraefik(traefik, PATH, '/erin', { secure: true });
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe(`https://${PATH}/erin/`);
    const seen = await expectNoRouterErrors(traefik, [...SPAWNER_ROUTERS, `${name}@docker`]);
    expect(seen.get(`${name}@docker`)).toMatchObject({ entryPoints: ['websecure'], tls: { certResolver: RESOLVER }, priority: 100 });
    expect(seen.get('spawner-path@file')).toMatchObject({ entryPoints: ['websecure'], tls: { certResolver: RESOLVER } });
  });
});
