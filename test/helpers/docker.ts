// Docker helpers for tests: a client, labelled networks, and clean-up by label only (the run's,
// optionally narrowed to one test file's). The one place that removes test resources from Docker.
import Docker from 'dockerode';

export const TEST_RUN_LABEL = 'spawner.test-run';
/** Second label next to the run's, naming the test file, so a file can clean up its own early. */
export const TEST_FILE_LABEL = 'spawner.test-file';

export function dockerClient(): Docker {
  return new Docker({ socketPath: '/var/run/docker.sock' });
}

/** The run's label, and the file's when given: what the resources of a run (or of one file in it) carry. */
export function testLabels(runId: string, file?: string): Record<string, string> {
  return { [TEST_RUN_LABEL]: runId, ...(file ? { [TEST_FILE_LABEL]: file } : {}) };
}

/** The same as `key=value` pairs: Docker's label filter, and CONTAINER_EXTRA_LABELS joined by commas. */
function testLabelPairs(runId: string, file?: string): string[] {
  return Object.entries(testLabels(runId, file)).map(([k, v]) => `${k}=${v}`);
}

/** The CONTAINER_EXTRA_LABELS value that marks containers and volumes as this run's and this file's. */
export function scopeLabels(runId: string, file: string): string {
  return testLabelPairs(runId, file).join(',');
}

/**
 * A bridge network labelled as the run's (and the file's, when given), isolated as Spawner wants
 * people's network (no container-to-container traffic) unless `flat`; `internal` for CONTAINER_EGRESS=none.
 */
export async function createTestNetwork(
  runId: string,
  name: string,
  file?: string,
  options: { flat?: boolean; internal?: boolean } = {},
): Promise<string> {
  await dockerClient().createNetwork({
    Name: name,
    Driver: 'bridge',
    Internal: options.internal ?? false,
    Labels: testLabels(runId, file),
    Options: options.flat ? {} : { 'com.docker.network.bridge.enable_icc': 'false' },
  });
  return name;
}

/**
 * Removes every container, volume and network labelled with this run id, or, given a file, only
 * those that carry that file's label too (so a file can clean up early without touching files
 * running in parallel; networks labelled with the run only stay until the run's teardown).
 */
export async function removeTestResources(runId: string, file?: string): Promise<void> {
  await removeLabelled(testLabelPairs(runId, file));
}

/** Removes every container, volume and network that carries all these `key=value` labels. */
export async function removeLabelled(labels: string[]): Promise<void> {
  const docker = dockerClient();
  const filters = { label: labels };
  const containers = await docker.listContainers({ all: true, filters });
  // One at a time: Debian's Docker 20.10.24 can deadlock its network controller when containers
  // on one network exit while others' endpoints are deleted (moby/moby#46661), and removing many
  // running containers at once does exactly that.
  for (const c of containers) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
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
  const networks = await docker.listNetworks({ filters });
  await Promise.all(
    networks.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
}

/** The logs of a container, for printing when an assertion about it fails. */
export async function containerLogs(nameOrId: string): Promise<string> {
  try {
    const buffer = (await dockerClient().getContainer(nameOrId).logs({ stdout: true, stderr: true, tail: 100 })) as unknown as Buffer;
    return buffer.toString('utf8');
  } catch (error) {
    return `(no logs: ${(error as Error).message})`;
  }
}
