// The raw-engine baseline: the same container Spawner would create (Spawner's own spec builder, so
// image, limits and hardening match), driven straight through dockerode with no Spawner between.
import type Docker from 'dockerode';
import type { Config } from '../../src/config.js';
import { buildContainerSpec, type ImageFacts } from '../../src/containers/docker/spec.js';
import { planFromConfig } from '../../src/containers/plan.js';
import { MANAGED_LABEL } from '../../src/containers/labels.js';
import { volumeName, type Person } from '../../src/containers/naming.js';
import { pollUntil200 } from './http.js';
import { since } from './stats.js';

export async function imageFacts(docker: Docker, ref: string): Promise<ImageFacts> {
  const info = await docker.getImage(ref).inspect();
  return { id: info.Id, user: info.Config?.User ?? '' };
}

/** The container's address on the given network; throws when it has none. */
export async function containerIp(docker: Docker, nameOrId: string, network: string): Promise<string> {
  const info = await docker.getContainer(nameOrId).inspect();
  const ip = info.NetworkSettings.Networks[network]?.IPAddress;
  if (!ip) throw new Error(`${nameOrId} has no address on ${network} (state ${info.State.Status})`);
  return ip;
}

/** Labels of the person's volume, as ContainerManager gives them. */
export function volumeLabels(config: Pick<Config, 'containers'>, person: Person): Record<string, string> {
  return {
    ...config.containers.extraLabels,
    [MANAGED_LABEL]: 'true',
    'spawner.user_id': String(person.id),
    'spawner.username': person.username,
  };
}

/**
 * Raw spawn: create the (labelled) volume, create and start the container with Spawner's spec,
 * inspect it for its address and poll it until it answers 200. Returns the milliseconds and id.
 */
export async function rawSpawn(
  docker: Docker,
  config: Readonly<Config>,
  facts: ImageFacts,
  person: Person,
): Promise<{ ms: number; id: string }> {
  const spec = buildContainerSpec(planFromConfig(config, person), facts);
  const t0 = performance.now();
  await docker.createVolume({ Name: volumeName(config, person), Labels: volumeLabels(config, person) });
  const container = await docker.createContainer(spec);
  await container.start();
  const ip = await containerIp(docker, container.id, config.traefik.network);
  await pollUntil200(ip, config.containers.port);
  return { ms: since(t0), id: container.id };
}

/** Raw wake: start a stopped container, inspect it for its address, poll until 200. */
export async function rawStart(docker: Docker, config: Readonly<Config>, id: string): Promise<number> {
  const t0 = performance.now();
  await docker.getContainer(id).start();
  const ip = await containerIp(docker, id, config.traefik.network);
  await pollUntil200(ip, config.containers.port);
  return since(t0);
}

/** Creates (not starts) a raw container with Spawner's spec, its volume labelled like Spawner's. */
export async function createRawContainer(
  docker: Docker,
  config: Readonly<Config>,
  facts: ImageFacts,
  person: Person,
): Promise<Docker.Container> {
  await docker.createVolume({ Name: volumeName(config, person), Labels: volumeLabels(config, person) });
  return docker.createContainer(buildContainerSpec(planFromConfig(config, person), facts));
}
