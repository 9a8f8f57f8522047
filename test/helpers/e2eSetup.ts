// Shared set-up for the end-to-end files: the real user-template image (built offline on the
// stand-in base), and a per-file Docker scope so that each file's Traefik sees only its own
// containers and the file can remove everything it made as soon as it is done.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { TEST_RUN_LABEL, dockerClient } from './docker.js';

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

/** Second label next to the run's, naming the test file (same key as test/helpers/scope.ts). */
export const FILE_LABEL = 'spawner.test-file';

export interface E2eScope {
  /** CONTAINER_EXTRA_LABELS for Spawner: its containers and volumes carry the run's and the file's label. */
  extraLabels: string;
  /** For startTraefik({ constraint }): this Traefik routes this file's containers only. */
  constraint: string;
  /** A network labelled like the containers. */
  createNetwork(): Promise<string>;
  /** Removes this file's containers, volumes and network (the run's teardown would too, later). */
  remove(): Promise<void>;
}

export function e2eScope(runId: string, file: string): E2eScope {
  const labels = { [TEST_RUN_LABEL]: runId, [FILE_LABEL]: file };
  const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
  const docker = dockerClient();
  return {
    extraLabels: filters.label.join(','),
    constraint: `Label(\`${FILE_LABEL}\`,\`${file}\`)`,
    async createNetwork() {
      const name = `spawner-test-${runId}-${file}`;
      await docker.createNetwork({ Name: name, Driver: 'bridge', Labels: labels });
      return name;
    },
    async remove() {
      const containers = await docker.listContainers({ all: true, filters });
      await Promise.all(
        containers.map((c) =>
          docker
            .getContainer(c.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
      );
      const { Volumes } = await docker.listVolumes({ filters });
      await Promise.all(
        (Volumes ?? []).map((v) =>
          docker
            .getVolume(v.Name)
            .remove()
            .catch(() => undefined),
        ),
      );
      const networks = await docker.listNetworks({ filters });
      await Promise.all(
        networks.map((n) =>
          docker
            .getNetwork(n.Id)
            .remove()
            .catch(() => undefined),
        ),
      );
    },
  };
}
