// Deterministic names for everything Spawner creates for a person. The container name doubles as
// a lock: Docker refuses a second container of the same name, so two racing spawns end with one.
import type { Config } from '../config.js';

export interface Person {
  id: number;
  username: string;
}

type NamingConfig = Pick<Config, 'containers'>;

/** user-alice-7: the seed operator's form, prefix configurable. Also the Traefik router name. */
export function containerName(config: NamingConfig, person: Person): string {
  return `${config.containers.namePrefix}-${person.username}-${person.id}`;
}

/** The named volume that holds the person's data across re-creations of the container. */
export function volumeName(config: NamingConfig, person: Person): string {
  return `${containerName(config, person)}-data`;
}
