// What Spawner makes ready in Docker at start-up so the first signup on a fresh machine works: the
// network people's containers join (TRAEFIK_NETWORK), with the isolation CONTAINER_ISOLATION and
// CONTAINER_EGRESS ask for. Without the network every container create fails; with one that lets
// containers talk to each other, bob's container opens alice's service directly, past the access
// check: that is refused (server.ts exits with the line `networkProblem` gives).
// A Docker engine that is down or slow is logged and start-up goes on, as reconcile does; the
// dashboard then tells people what is wrong when they sign up.
import type { Logger } from '../../logger.js';
import type { IsolationConfig } from '../../config/isolation.js';
import { DockerUnavailable } from '../../errors.js';
import { ICC_OPTION, type DockerEngine, type NetworkFacts } from './engine.js';

/** Marks the networks Spawner created itself, so an operator can tell them from Traefik's own. */
export const MANAGED_NETWORK_LABEL = 'spawner.managed-network';

export type NetworkOutcome = 'present' | 'created' | 'docker-unavailable' | 'failed' | 'unsafe';

/** The network Spawner creates for a policy. */
export function wantedNetwork(policy: IsolationConfig): NetworkFacts {
  return { interContainer: !policy.isolated, internal: policy.egress === 'none', ...(policy.subnet ? { subnet: policy.subnet } : {}) };
}

/** Why an existing network does not give the policy's isolation (one line for the operator), or null. */
export function networkProblem(name: string, facts: NetworkFacts, policy: IsolationConfig): string | null {
  const recreate = (flags: string) => `remove it and let Spawner create it, or: docker network create ${flags} ${name}`;
  const flags = [policy.isolated ? `-o ${ICC_OPTION}=false` : '', policy.egress === 'none' ? '--internal' : ''].filter(Boolean).join(' ');
  if (policy.isolated && facts.interContainer) {
    return `network ${name} lets containers connect to each other, so people could reach each other's services; ${recreate(flags)} (or set CONTAINER_ISOLATION=off to accept that)`;
  }
  if (policy.egress === 'none' && !facts.internal) {
    return `CONTAINER_EGRESS=none but network ${name} is not internal; ${recreate(flags)}`;
  }
  if (policy.egress === 'open' && facts.internal) {
    return `network ${name} is internal, so people's containers reach nothing outside it; set CONTAINER_EGRESS=none, or recreate it without --internal`;
  }
  return null;
}

/** Creates the network when it is missing and checks an existing one's isolation; never throws. */
export async function ensureNetwork(
  engine: Pick<DockerEngine, 'inspectNetwork' | 'createNetwork'>,
  name: string,
  logger: Logger,
  /** CONTAINER_EXTRA_LABELS: everything Spawner creates carries them (and tests find it by them). */
  extraLabels: Readonly<Record<string, string>> = {},
  policy: IsolationConfig = { isolated: true, egress: 'open' },
  /** A lost creation race is looked at once more, not forever. */
  lostRace = false,
): Promise<{ outcome: NetworkOutcome; problem?: string }> {
  const log = logger.child({ component: 'prepare', network: name });
  try {
    const facts = await engine.inspectNetwork(name);
    if (!facts && lostRace) throw new Error('the network vanished right after another process created it');
    if (facts) {
      const problem = networkProblem(name, facts, policy);
      if (problem) return { outcome: 'unsafe', problem };
      log.debug('network present');
      return { outcome: 'present' };
    }
    // false: someone created it between the two calls; check theirs like any existing one.
    if (await engine.createNetwork(name, { ...extraLabels, [MANAGED_NETWORK_LABEL]: 'true' }, wantedNetwork(policy))) {
      log.info(
        { isolated: policy.isolated, egress: policy.egress },
        'created the missing Docker network people’s containers join (a bridge network); a real Traefik must watch this network',
      );
      return { outcome: 'created' };
    }
    return await ensureNetwork(engine, name, logger, extraLabels, policy, true);
  } catch (error) {
    if (error instanceof DockerUnavailable) {
      log.warn({ err: error }, 'Docker is not reachable; the network was not checked, Spawner starts anyway');
      return { outcome: 'docker-unavailable' };
    }
    log.error({ err: error }, 'could not create the Docker network; signups will fail until it exists');
    return { outcome: 'failed' };
  }
}
