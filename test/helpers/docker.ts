// Docker helpers for tests: a client, labelled networks, and clean-up by the run's label only.
import Docker from 'dockerode';

export const TEST_RUN_LABEL = 'spawner.test-run';

export function dockerClient(): Docker {
  return new Docker({ socketPath: '/var/run/docker.sock' });
}

export async function createTestNetwork(runId: string, name: string): Promise<string> {
  const docker = dockerClient();
  await docker.createNetwork({ Name: name, Driver: 'bridge', Labels: { [TEST_RUN_LABEL]: runId } });
  return name;
}

/** Removes every container, volume and network labelled with this run id. */
export async function removeTestResources(runId: string): Promise<void> {
  const docker = dockerClient();
  const filter = { label: [`${TEST_RUN_LABEL}=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters: filter });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const { Volumes } = await docker.listVolumes({ filters: filter });
  await Promise.all(
    (Volumes ?? []).map((v) =>
      docker
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined),
    ),
  );
  const networks = await docker.listNetworks({ filters: filter });
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
