// A person's workload plan: everything that decides what their container is (image, port, command
// and environment, limits, data path, readiness and idle policy) resolved for that person in one
// object. The spec, the labels, readiness and the connection probe read the plan and never the
// config, so templates and quotas will change data here, not code paths elsewhere. Today every
// plan comes from config (one template named 'default').
import type { Config, RoutingMode } from '../config.js';
import { containerName, volumeName, type Person } from './naming.js';
import { servicePath, serviceUrl, serviceHost } from '../addressing.js';

export interface RoutePlan {
  mode: RoutingMode;
  /** The host the person's service answers on. */
  host: string;
  /** '/' in subdomain mode, '/alice/' in path mode. */
  path: string;
  /** Path mode: Traefik strips the person's prefix before the request reaches the service. */
  stripPrefix: boolean;
  entrypoint: string;
  tlsEntrypoint: string;
  certResolver: string | undefined;
  /** Traefik's forwardAuth middleware that checks every request (TRAEFIK_AUTH_MIDDLEWARE). */
  authMiddleware: string;
}

export interface WorkloadPlan {
  person: Person;
  template: string;
  name: string;
  volume: string;
  image: string;
  /** The port the service listens on inside the workload. */
  port: number;
  /** Overrides the image's command; undefined keeps it. */
  command?: readonly string[];
  /** In the order the workload receives them. */
  env: Readonly<Record<string, string>>;
  /** Configured user; undefined lets the backend take the image's own unless it is root. */
  user: string | undefined;
  dataPath: string;
  limits: { memoryBytes: number; cpuQuota: number; cpuPeriod: number; pidsLimit: number };
  readOnly: boolean;
  /** Size of the writable /tmp when the root file system is read-only. */
  tmpfsBytes: number;
  capAdd: readonly string[];
  logs: { maxSize: string; maxFile: number };
  /** The image's own health check when it has one, else any HTTP answer on `path`. */
  readiness: { kind: 'healthcheck-or-http'; path: string };
  /** 0 turns a stage off. */
  idle: { idleTimeoutMs: number; pauseAfterMs: number };
  /** The network the workload shares with Traefik and Spawner. */
  network: string;
  routing: RoutePlan;
  /** The operator's labels on everything Spawner creates. */
  extraLabels: Readonly<Record<string, string>>;
}

/** Resolves a person's plan; asynchronous because templates and quotas will come from stores. */
export interface PlanSource {
  /** The workload's name; independent of the template, so a person's workload is always found. */
  nameFor(person: Person): string;
  planFor(person: Person): Promise<WorkloadPlan>;
}

export type PlanConfig = Pick<
  Config,
  'routingMode' | 'baseDomain' | 'publicScheme' | 'stripPathPrefix' | 'traefik' | 'containers' | 'access'
>;

/** Today's plan: the single template the container settings describe. */
export function planFromConfig(config: PlanConfig, person: Person): WorkloadPlan {
  const c = config.containers;
  return {
    person: { id: person.id, username: person.username },
    template: 'default',
    name: containerName(config, person),
    volume: volumeName(config, person),
    image: c.image,
    port: c.port,
    env: {
      SPAWNER_USER: person.username,
      SPAWNER_USER_ID: String(person.id),
      SPAWNER_PUBLIC_URL: serviceUrl(config, person.username),
      SPAWNER_BASE_PATH: servicePath(config, person.username),
    },
    user: c.user,
    dataPath: c.dataPath,
    limits: { memoryBytes: c.memoryBytes, cpuQuota: c.cpuQuota, cpuPeriod: c.cpuPeriod, pidsLimit: c.pidsLimit },
    readOnly: c.readOnly,
    tmpfsBytes: c.tmpfsBytes,
    capAdd: c.capAdd,
    logs: { maxSize: c.logMaxSize, maxFile: c.logMaxFile },
    readiness: { kind: 'healthcheck-or-http', path: '/' },
    idle: { idleTimeoutMs: c.idleTimeoutMs, pauseAfterMs: c.pauseAfterMs },
    network: config.traefik.network,
    routing: {
      mode: config.routingMode,
      host: serviceHost(config, person.username),
      path: servicePath(config, person.username),
      stripPrefix: config.stripPathPrefix,
      entrypoint: config.traefik.entrypoint,
      tlsEntrypoint: config.traefik.tlsEntrypoint,
      certResolver: config.traefik.certResolver,
      authMiddleware: config.access.traefikMiddleware,
    },
    extraLabels: c.extraLabels,
  };
}

export class ConfigPlanSource implements PlanSource {
  constructor(private readonly config: PlanConfig) {}

  nameFor(person: Person): string {
    return containerName(this.config, person);
  }

  planFor(person: Person): Promise<WorkloadPlan> {
    return Promise.resolve(planFromConfig(this.config, person));
  }
}
