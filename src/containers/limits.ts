// A container's effective limits, from three layers by one rule: each limit (memory, CPU, PIDs)
// is taken from the most specific layer that sets it — the admin's per-person quota over the
// template over the global defaults (DEFAULT_MEMORY_LIMIT, DEFAULT_CPU_QUOTA, CONTAINER_PIDS_LIMIT).
// A quota can therefore raise a limit above the template's as well as lower it: the admin decides
// for that person. Pure, so /admin can show the same numbers the container gets.

export interface Limits {
  memoryBytes: number;
  /** CPU time per period, in microseconds (Docker's CpuQuota). */
  cpuQuota: number;
  cpuPeriod: number;
  pidsLimit: number;
}

/** One layer's settings; absent means "not set here". `cpus` is in CPUs, such as 0.5. */
export interface LimitLayer {
  memoryBytes?: number;
  cpus?: number;
  pidsLimit?: number;
}

export type LimitSource = 'default' | 'template' | 'quota';

export interface EffectiveLimits {
  limits: Limits;
  /** Which layer each limit came from (for /admin). */
  source: { memoryBytes: LimitSource; cpu: LimitSource; pidsLimit: LimitSource };
}

function pick<T>(quota: T | undefined, template: T | undefined, fallback: T): [T, LimitSource] {
  if (quota !== undefined) return [quota, 'quota'];
  if (template !== undefined) return [template, 'template'];
  return [fallback, 'default'];
}

export function effectiveLimits(defaults: Limits, template?: LimitLayer, quota?: LimitLayer): EffectiveLimits {
  const [memoryBytes, memorySource] = pick(quota?.memoryBytes, template?.memoryBytes, defaults.memoryBytes);
  const toQuota = (cpus: number | undefined) => (cpus === undefined ? undefined : Math.max(1000, Math.round(cpus * defaults.cpuPeriod)));
  const [cpuQuota, cpuSource] = pick(toQuota(quota?.cpus), toQuota(template?.cpus), defaults.cpuQuota);
  const [pidsLimit, pidsSource] = pick(quota?.pidsLimit, template?.pidsLimit, defaults.pidsLimit);
  return {
    limits: { memoryBytes, cpuQuota, cpuPeriod: defaults.cpuPeriod, pidsLimit },
    source: { memoryBytes: memorySource, cpu: cpuSource, pidsLimit: pidsSource },
  };
}
