// The complete creation spec of a person's container: image, environment, labels, network,
// limits and hardening, all from config in this one place, so every container is built alike.
import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import type { ContainerCreateSpec } from './engine.js';
import { buildLabels } from './labels.js';
import { containerName, volumeName, type Person } from './naming.js';
import { servicePath, serviceUrl } from './routing.js';

export type SpecConfig = Pick<Config, 'routingMode' | 'baseDomain' | 'publicScheme' | 'stripPathPrefix' | 'traefik' | 'containers'>;

/** Label holding a hash of the spec, so a container built from an older config can be recognised. */
export const SPEC_HASH_LABEL = 'spawner.spec_hash';

const FALLBACK_USER = '1000:1000';

/**
 * The user the container runs as: the configured one, else the image's own if it is not root,
 * else an unprivileged fallback. Root is never used.
 */
export function runAsUser(configured: string | undefined, imageUser: string): string {
  if (configured) return configured;
  const name = imageUser.split(':')[0]?.trim() ?? '';
  if (name === '' || name === 'root' || name === '0') return FALLBACK_USER;
  return imageUser;
}

export interface ImageFacts {
  id: string;
  /** The image's configured user; '' means root. */
  user: string;
}

export function buildContainerSpec(config: SpecConfig, person: Person, image: ImageFacts): ContainerCreateSpec {
  const c = config.containers;
  const name = containerName(config, person);
  const labels = buildLabels(config, person);
  const spec: ContainerCreateSpec = {
    name,
    Image: c.image,
    User: runAsUser(c.user, image.user),
    Env: [
      `SPAWNER_USER=${person.username}`,
      `SPAWNER_USER_ID=${person.id}`,
      `SPAWNER_PUBLIC_URL=${serviceUrl(config, person.username)}`,
      `SPAWNER_BASE_PATH=${servicePath(config, person.username)}`,
    ],
    Labels: labels,
    ExposedPorts: { [`${c.port}/tcp`]: {} },
    HostConfig: {
      NetworkMode: config.traefik.network,
      RestartPolicy: { Name: 'unless-stopped' },
      // A tiny init as PID 1 forwards SIGTERM and reaps zombies: without it a server that ignores
      // signals as PID 1 makes every stop and restart wait the full grace period.
      Init: true,
      Memory: c.memoryBytes,
      MemorySwap: c.memoryBytes,
      CpuQuota: c.cpuQuota,
      CpuPeriod: c.cpuPeriod,
      PidsLimit: c.pidsLimit,
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: [...c.capAdd],
      SecurityOpt: ['no-new-privileges:true'],
      ReadonlyRootfs: c.readOnly,
      ...(c.readOnly ? { Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${c.tmpfsBytes}` } } : {}),
      LogConfig: { Type: 'json-file', Config: { 'max-size': c.logMaxSize, 'max-file': String(c.logMaxFile) } },
      Mounts: [{ Type: 'volume', Source: volumeName(config, person), Target: c.dataPath, ReadOnly: false }],
    },
    NetworkingConfig: { EndpointsConfig: { [config.traefik.network]: { Aliases: [name] } } },
  };
  labels[SPEC_HASH_LABEL] = specHash(spec, image.id);
  return spec;
}

/**
 * A short, stable fingerprint of the spec (minus the hash label) and of the image it was built
 * from, so a changed config or a rebuilt template image is noticed.
 */
export function specHash(spec: ContainerCreateSpec, imageId: string): string {
  const { [SPEC_HASH_LABEL]: _omit, ...labels } = spec.Labels ?? {};
  return createHash('sha256')
    .update(JSON.stringify({ ...spec, Labels: labels, imageId }))
    .digest('hex')
    .slice(0, 16);
}
