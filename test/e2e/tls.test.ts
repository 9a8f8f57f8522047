// HTTPS through the real Traefik: with TRAEFIK_CERTRESOLVER set, people's routers and Spawner's own
// (docker-compose.yml + docker-compose.tls.yml) sit on the TLS entrypoint with the resolver, Traefik
// reports them enabled without errors, and HTTPS requests reach the containers. The resolver's ACME
// server is a closed loopback port, so Traefik accepts the resolver, fails to get certificates (no
// internet needed) and serves its self-signed default certificate, which is enough to check routing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildUserTemplateImage, e2eScope, personOn } from '../helpers/e2eSetup.js';
import { composeLabels, labelsToDynamic } from '../helpers/composeLabels.js';
import { ProxyClient } from '../helpers/proxyClient.js';
import { eventually, freePort, startTraefik, viaTraefik, type Traefik } from '../helpers/traefik.js';
import { configErrorsInLog, expectNoRouterErrors, logText, reachesContainer } from '../helpers/traefikChecks.js';
import { startSpawner, type RunningSpawner } from '../helpers/spawnerServer.js';

const runId = inject('runId');
const scope = e2eScope(runId, 'tls');
const SUB = 'secure.test';
const PATH = 'securepath.test';
const RESOLVER = 'testca';
const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.tls.yml'];
const SPAWNER_ROUTERS = ['spawner-sub@file', 'spawner-wake-sub@file', 'spawner-path@file', 'spawner-wake-path@file'];

let traefik: Traefik;
let sub: RunningSpawner;
let path: RunningSpawner;

const containerOf = (s: RunningSpawner, username: string) => {
  const user = s.services.users.findByUsername(username);
  if (!user) throw new Error(`no user ${username}`);
  return { user, name: `${s.config.containers.namePrefix}-${username}-${user.id}` };
};

beforeAll(async () => {
  const image = buildUserTemplateImage();
  const network = await scope.createNetwork();
  const [subPort, pathPort, closedPort] = [await freePort(), await freePort(), await freePort()];
  const env = { TRAEFIK_NETWORK: network, TRAEFIK_CERTRESOLVER: RESOLVER };
  const subHttp = labelsToDynamic(
    composeLabels({ ...env, BASE_DOMAIN: SUB }, COMPOSE_FILES),
    `http://127.0.0.1:${subPort}`,
    (n) => `${n}-sub`,
  );
  const pathHttp = labelsToDynamic(
    composeLabels({ ...env, BASE_DOMAIN: PATH }, COMPOSE_FILES),
    `http://127.0.0.1:${pathPort}`,
    (n) => `${n}-path`,
  );
  traefik = await startTraefik({
    runId,
    network,
    tls: true,
    constraint: scope.constraint,
    args: [
      // Nothing listens on this loopback port: every ACME request fails at once, offline.
      `--certificatesresolvers.${RESOLVER}.acme.caserver=https://127.0.0.1:${closedPort}/directory`,
      `--certificatesresolvers.${RESOLVER}.acme.storage={dir}/acme.json`,
      `--certificatesresolvers.${RESOLVER}.acme.email=ops@example.test`,
      `--certificatesresolvers.${RESOLVER}.acme.tlschallenge=true`,
    ],
    dynamic: { http: { routers: { ...subHttp.routers, ...pathHttp.routers }, services: { ...subHttp.services, ...pathHttp.services } } },
  });
  const common = {
    ...env,
    TRAEFIK_API_URL: traefik.api,
    USER_TEMPLATE_IMAGE: image,
    CONTAINER_EXTRA_LABELS: scope.extraLabels,
    CONTAINER_IDLE_TIMEOUT: '0',
  };
  sub = await startSpawner({ runId, port: subPort, env: { ...common, BASE_DOMAIN: SUB } });
  path = await startSpawner({ runId, port: pathPort, env: { ...common, BASE_DOMAIN: PATH, ROUTING_MODE: 'path' } });
  // Traefik answers its ping before the file provider's routers are in: wait for Spawner's own.
  await expectNoRouterErrors(traefik, SPAWNER_ROUTERS);
});

afterAll(async () => {
  await sub?.stop();
  await path?.stop();
  await traefik?.stop();
  await scope.remove();
});

describe('HTTPS labels', () => {
  it("when a cert resolver is set, then a person's router and Spawner's own are enabled on the TLS entrypoint and HTTPS reaches the container", async () => {
    const spawner = new ProxyClient(traefik, `spawner.${SUB}`, { secure: true });
    const signup = await spawner.signUp('carol');
    expect(signup.status, signup.text.slice(0, 300)).toBe(303);
    expect(String(signup.headers['set-cookie'])).toMatch(/spawner\.sid=.*; Secure/);
    const dashboard = await spawner.get('/dashboard');
    expect(dashboard.text).toContain(`href="https://carol.${SUB}/"`);

    const { name } = containerOf(sub, 'carol');
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
    const { user, name } = containerOf(sub, 'dozer');
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
    const { name } = containerOf(path, 'erin');
    await reachesContainer(traefik, { host: PATH, path: '/erin/', container: name, secure: true }, (html) => personOn(html) === 'erin');

    const bare = await viaTraefik(traefik, PATH, '/erin', { secure: true });
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe(`https://${PATH}/erin/`);
    const seen = await expectNoRouterErrors(traefik, [...SPAWNER_ROUTERS, `${name}@docker`]);
    expect(seen.get(`${name}@docker`)).toMatchObject({ entryPoints: ['websecure'], tls: { certResolver: RESOLVER }, priority: 100 });
    expect(seen.get('spawner-path@file')).toMatchObject({ entryPoints: ['websecure'], tls: { certResolver: RESOLVER } });
  });
});
