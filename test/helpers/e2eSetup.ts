// Shared set-up for the end-to-end files: the real user-template image (built offline on the
// stand-in base), and Spawner in both routing modes behind one real Traefik, scoped per file so
// that each file's Traefik sees only its own containers and the file can remove everything it
// made as soon as it is done.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { composeLabels, labelsToDynamic } from './composeLabels.js';
import { TEST_FILE_LABEL, createTestNetwork, removeTestResources, scopeLabels } from './docker.js';
import { freePort } from './ports.js';
import { startSpawner, type RunningSpawner } from './spawnerServer.js';
import { startTraefik, type Traefik, type TraefikOptions } from './traefik.js';
import { expectNoRouterErrors } from './traefikChecks.js';

const REPO = join(import.meta.dirname, '..', '..');

/** The real user-template/ built FROM the local nginx-unprivileged stand-in. */
export const USER_TEMPLATE_TEST_IMAGE = 'spawner-test-user-template:latest';

let built = false;

/** The person a page of the real user-template is for (index and about both name them in a meta tag). */
export function personOn(html: string): string | undefined {
  return /<meta name="spawner-user" content="([^"]*)">/.exec(html)?.[1];
}

/** Builds the stand-in base (idempotent, seconds) and the real template on it (Docker caches layers). */
export function buildUserTemplateImage(): string {
  if (built) return USER_TEMPLATE_TEST_IMAGE;
  const env = { ...process.env, DOCKER_BUILDKIT: '0' };
  execFileSync('bash', [join(REPO, 'scripts', 'build-standin-images.sh'), 'nginx'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync(
    'docker',
    [
      'build',
      '-q',
      '--build-arg',
      'BASE_IMAGE=local/nginx-unprivileged:alpine',
      '-t',
      USER_TEMPLATE_TEST_IMAGE,
      join(REPO, 'user-template'),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  built = true;
  return USER_TEMPLATE_TEST_IMAGE;
}

/** Spawner's own routers from the compose labels, renamed per mode (two Spawners, one Traefik). */
export const SPAWNER_ROUTERS = ['spawner-sub@file', 'spawner-wake-sub@file', 'spawner-path@file', 'spawner-wake-path@file'];

/** One of the two routing modes as a test walks it: whose Spawner, its own address, and a person's. */
export interface ServiceMode {
  label: string;
  spawner: () => RunningSpawner;
  /** Spawner's own host and base path. */
  home: string;
  base: string;
  /** A person's service: host, and path prefix ('' in subdomain mode). */
  host: (name: string) => string;
  prefix: (name: string) => string;
}

export interface BothModes {
  /** This file's network (labelled with the run and the file), Spawner's TRAEFIK_NETWORK. */
  network: string;
  traefik: Traefik;
  /** Spawner in subdomain mode, and in path mode. */
  sub: RunningSpawner;
  path: RunningSpawner;
  /** Spawner's own labels from docker-compose for the subdomain-mode domain. */
  subLabels: Record<string, string>;
  /** Stops both Spawners and Traefik, then removes this file's containers, volumes and network. */
  stop(): Promise<void>;
}

export interface BothModesOptions {
  /** BASE_DOMAIN of the subdomain-mode Spawner and of the path-mode one. */
  domains: { sub: string; path: string };
  /** The compose files Spawner's own labels are read from (default: docker-compose.yml). */
  composeFiles?: string[];
  /** Variables for compose's interpolation and for both Spawners (e.g. TRAEFIK_CERTRESOLVER). */
  env?: Record<string, string>;
  /** Spawner's variables: for both, and for one mode only (applied after the common ones). */
  spawnerEnv?: Record<string, string>;
  subEnv?: Record<string, string>;
  pathEnv?: Record<string, string>;
  /** Further Traefik options (the TLS entrypoint, static flags). */
  traefik?: Pick<TraefikOptions, 'tls' | 'args'>;
}

/**
 * One Traefik that routes this file's containers only, and behind it two Spawners on the host
 * (subdomain mode and path mode) reached through the routers docker-compose.yml gives Spawner,
 * both spawning the real user-template. Resolves once Traefik shows Spawner's own routers
 * without errors; what it started is stopped again if a step fails.
 */
export async function startBothModes(runId: string, file: string, options: BothModesOptions): Promise<BothModes> {
  let traefik: Traefik | undefined;
  let sub: RunningSpawner | undefined;
  let path: RunningSpawner | undefined;
  const stop = async () => {
    await sub?.stop();
    await path?.stop();
    await traefik?.stop();
    await removeTestResources(runId, file);
  };
  try {
    const image = buildUserTemplateImage();
    const network = await createTestNetwork(runId, `spawner-test-${runId}-${file}`, file);
    const [subPort, pathPort] = [await freePort(), await freePort()];
    const env = { TRAEFIK_NETWORK: network, ...options.env };
    const labelsFor = (domain: string) => composeLabels({ ...env, BASE_DOMAIN: domain }, options.composeFiles);
    const subLabels = labelsFor(options.domains.sub);
    const subHttp = labelsToDynamic(subLabels, `http://127.0.0.1:${subPort}`, (n) => `${n}-sub`);
    const pathHttp = labelsToDynamic(labelsFor(options.domains.path), `http://127.0.0.1:${pathPort}`, (n) => `${n}-path`);
    traefik = await startTraefik({
      runId,
      network,
      constraint: `Label(\`${TEST_FILE_LABEL}\`,\`${file}\`)`,
      ...options.traefik,
      dynamic: {
        http: {
          routers: { ...subHttp.routers, ...pathHttp.routers },
          services: { ...subHttp.services, ...pathHttp.services },
          middlewares: { ...subHttp.middlewares, ...pathHttp.middlewares },
        },
      },
    });
    const common = {
      ...env,
      TRAEFIK_API_URL: traefik.api,
      USER_TEMPLATE_IMAGE: image,
      // Spawner's containers and volumes carry the run's and the file's label: this Traefik sees
      // them, and stop() removes them.
      CONTAINER_EXTRA_LABELS: scopeLabels(runId, file),
      CONTAINER_IDLE_TIMEOUT: '0',
      ...options.spawnerEnv,
    };
    // People's routers use the access check the compose labels define, renamed per mode.
    sub = await startSpawner({
      runId,
      port: subPort,
      env: { ...common, BASE_DOMAIN: options.domains.sub, TRAEFIK_AUTH_MIDDLEWARE: 'spawner-auth-sub@file', ...options.subEnv },
    });
    path = await startSpawner({
      runId,
      port: pathPort,
      env: {
        ...common,
        BASE_DOMAIN: options.domains.path,
        ROUTING_MODE: 'path',
        TRAEFIK_AUTH_MIDDLEWARE: 'spawner-auth-path@file',
        ...options.pathEnv,
      },
    });
    // Traefik answers its ping before the file provider's routers are in: wait for Spawner's own.
    await expectNoRouterErrors(traefik, SPAWNER_ROUTERS);
    return { network, traefik, sub, path, subLabels, stop };
  } catch (error) {
    await stop().catch(() => undefined); // the first error is the one to see
    throw error;
  }
}
