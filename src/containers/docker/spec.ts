// The complete creation spec of a person's container, built from their plan: image, environment,
// labels, network, limits and hardening in this one place, so every container is built alike. The
// Traefik nudge container is built by the same hardening code (hardenedHostConfig).
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import type { WorkloadPlan } from '../plan.js';
import type { ContainerCreateSpec } from './engine.js';
import { buildLabels, SPEC_HASH_LABEL } from '../labels.js';

export { SPEC_HASH_LABEL };

type HostConfig = NonNullable<Docker.ContainerCreateOptions['HostConfig']>;

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

/** What a hardened container may use and do; every container Spawner creates goes through it. */
export interface Hardening {
  network: string;
  restart: 'unless-stopped' | 'no';
  /** A tiny init as PID 1 (see buildContainerSpec). */
  init: boolean;
  limits: WorkloadPlan['limits'];
  capAdd: readonly string[];
  readOnly: boolean;
  tmpfsBytes: number;
  logs: WorkloadPlan['logs'];
  mounts: HostConfig['Mounts'];
}

/** No privileges, every capability dropped but the listed ones, no-new-privileges, hard limits. */
export function hardenedHostConfig(h: Hardening): HostConfig {
  return {
    NetworkMode: h.network,
    RestartPolicy: { Name: h.restart },
    Init: h.init,
    Memory: h.limits.memoryBytes,
    MemorySwap: h.limits.memoryBytes,
    CpuQuota: h.limits.cpuQuota,
    CpuPeriod: h.limits.cpuPeriod,
    PidsLimit: h.limits.pidsLimit,
    Privileged: false,
    CapDrop: ['ALL'],
    CapAdd: [...h.capAdd],
    SecurityOpt: ['no-new-privileges:true'],
    ReadonlyRootfs: h.readOnly,
    ...(h.readOnly ? { Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${h.tmpfsBytes}` } } : {}),
    LogConfig: { Type: 'json-file', Config: { 'max-size': h.logs.maxSize, 'max-file': String(h.logs.maxFile) } },
    ...(h.mounts ? { Mounts: h.mounts } : {}),
  };
}

export function buildContainerSpec(plan: WorkloadPlan, image: ImageFacts): ContainerCreateSpec {
  const labels = buildLabels(plan);
  const spec: ContainerCreateSpec = {
    name: plan.name,
    Image: plan.image,
    User: runAsUser(plan.user, image.user),
    ...(plan.command ? { Cmd: [...plan.command] } : {}),
    Env: Object.entries(plan.env).map(([key, value]) => `${key}=${value}`),
    Labels: labels,
    ExposedPorts: { [`${plan.port}/tcp`]: {} },
    HostConfig: hardenedHostConfig({
      network: plan.network,
      restart: 'unless-stopped',
      // A tiny init as PID 1 forwards SIGTERM and reaps zombies: without it a server that ignores
      // signals as PID 1 makes every stop and restart wait the full grace period.
      init: true,
      limits: plan.limits,
      capAdd: plan.capAdd,
      readOnly: plan.readOnly,
      tmpfsBytes: plan.tmpfsBytes,
      logs: plan.logs,
      mounts: [{ Type: 'volume', Source: plan.volume, Target: plan.dataPath, ReadOnly: false }],
    }),
    NetworkingConfig: { EndpointsConfig: { [plan.network]: { Aliases: [plan.name] } } },
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
