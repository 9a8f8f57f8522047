// Per-file scoping of Docker resources: a second label next to the run's, so a test file can
// remove what it created as soon as it is done, without touching files running in parallel.
import { TEST_RUN_LABEL, dockerClient } from './docker.js';

export const TEST_FILE_LABEL = 'spawner.test-file';

/** The CONTAINER_EXTRA_LABELS value that marks containers and volumes as this run's and this file's. */
export function scopeLabels(runId: string, file: string): string {
  return `${TEST_RUN_LABEL}=${runId},${TEST_FILE_LABEL}=${file}`;
}

/** Removes the containers and volumes of one test file of this run (networks are the run's). */
export async function removeScoped(runId: string, file: string): Promise<void> {
  const docker = dockerClient();
  const filters = { label: [`${TEST_RUN_LABEL}=${runId}`, `${TEST_FILE_LABEL}=${file}`] };
  const containers = await docker.listContainers({ all: true, filters });
  // One at a time: Debian's Docker 20.10.24 can deadlock its network controller when containers
  // on one network exit while others' endpoints are deleted (moby/moby#46661), and removing many
  // running containers at once does exactly that.
  for (const c of containers) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
  const { Volumes } = await docker.listVolumes({ filters });
  await Promise.all(
    (Volumes ?? []).map((v) =>
      docker
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined),
    ),
  );
}
