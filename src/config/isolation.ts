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
  // The address block of the network Spawner creates: one address per running person. Docker's
  // own choice may be a /24 (253 people); give a /16 or /20 for thousands.
  CONTAINER_SUBNET: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .refine(
      (v) => v === undefined || /^\d{1,3}(\.\d{1,3}){3}\/(8|9|1\d|2[0-8])$/.test(v),
      'must be an IPv4 block such as 10.96.0.0/16 (/8 to /28)',
    ),
};

export interface IsolationConfig {
  isolated: boolean;
  egress: Egress;
  /** For the network Spawner creates; undefined = Docker's default pool. */
  subnet?: string;
}

export function isolationConfig(e: {
  CONTAINER_ISOLATION: 'on' | 'off';
  CONTAINER_EGRESS: Egress;
  CONTAINER_SUBNET: string | undefined;
}): IsolationConfig {
  return {
    isolated: e.CONTAINER_ISOLATION === 'on',
    egress: e.CONTAINER_EGRESS,
    ...(e.CONTAINER_SUBNET ? { subnet: e.CONTAINER_SUBNET } : {}),
  };
}
