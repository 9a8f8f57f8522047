// What Spawner makes ready in Docker at start-up so the first signup on a fresh machine works: the
// network people's containers join (TRAEFIK_NETWORK). Without it every container create fails.
// A Docker engine that is down or slow is logged and start-up goes on, as reconcile does; the
// dashboard then tells people what is wrong when they sign up.
import type { Logger } from '../../logger.js';
import { DockerUnavailable } from '../../errors.js';
import type { DockerEngine } from './engine.js';

/** Marks the networks Spawner created itself, so an operator can tell them from Traefik's own. */
export const MANAGED_NETWORK_LABEL = 'spawner.managed-network';

export type NetworkOutcome = 'present' | 'created' | 'docker-unavailable' | 'failed';

/** Creates the network when it is missing; never throws. */
export async function ensureNetwork(
  engine: Pick<DockerEngine, 'networkExists' | 'createNetwork'>,
  name: string,
  logger: Logger,
  /** CONTAINER_EXTRA_LABELS: everything Spawner creates carries them (and tests find it by them). */
  extraLabels: Readonly<Record<string, string>> = {},
): Promise<NetworkOutcome> {
  const log = logger.child({ component: 'prepare', network: name });
  try {
    if (await engine.networkExists(name)) {
      log.debug('network present');
      return 'present';
    }
    // false: someone created it between the two calls, which is just as good.
    if (await engine.createNetwork(name, { ...extraLabels, [MANAGED_NETWORK_LABEL]: 'true' })) {
      log.info('created the missing Docker network people’s containers join (a bridge network); a real Traefik must watch this network');
      return 'created';
    }
    return 'present';
  } catch (error) {
    if (error instanceof DockerUnavailable) {
      log.warn({ err: error }, 'Docker is not reachable; the network was not checked, Spawner starts anyway');
      return 'docker-unavailable';
    }
    log.error({ err: error }, 'could not create the Docker network; signups will fail until it exists');
    return 'failed';
  }
}
