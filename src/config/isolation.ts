// How people's containers are kept apart on the network (SECURITY.md "Tenant isolation"). They share
// one bridge network with inter-container traffic switched off; Traefik and Spawner reach them from
// the host's network namespace, which that switch does not cover. One network for everybody costs
// the same at ten people as at ten thousand (README "Tenant isolation" has the measurements).
import { z } from 'zod';

export type Egress = 'open' | 'none';

export const isolationFields = {
  // on: TRAEFIK_NETWORK must forbid container-to-container traffic (Spawner creates it so and
  // refuses to start on one that allows it). off: the old flat network, for an operator who has
  // a reason and says so.
  CONTAINER_ISOLATION: z.enum(['on', 'off']).default('on'),
  // none: the network is internal, people's containers reach nothing outside it.
  CONTAINER_EGRESS: z.enum(['open', 'none']).default('open'),
};

export interface IsolationConfig {
  isolated: boolean;
  egress: Egress;
}

export function isolationConfig(e: { CONTAINER_ISOLATION: 'on' | 'off'; CONTAINER_EGRESS: Egress }): IsolationConfig {
  return { isolated: e.CONTAINER_ISOLATION === 'on', egress: e.CONTAINER_EGRESS };
}
