// A person's workload plan: everything that decides what their container is (image, port, command
// and environment, limits, data path, readiness and idle policy) resolved for that person in one
// object. The spec, the labels, readiness and the connection probe read the plan and never the
// config, so templates and quotas change data here, not code paths elsewhere. A template (the
// catalogue's entry) fills what it sets; the container settings fill the rest.
import type { Config, RoutingMode } from '../config.js';
import { containerName, volumeName, type Person } from './naming.js';
import { servicePath, serviceUrl, serviceHost } from '../addressing.js';
import type { Template } from '../templates/catalogue.js';
import { templateOf, type TemplateUser } from '../templates/access.js';
import { effectiveLimits, type LimitLayer, type Limits } from './limits.js';

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
  limits: Limits;
  readOnly: boolean;
  /** Size of the writable /tmp when the root file system is read-only. */
  tmpfsBytes: number;
  capAdd: readonly string[];
  logs: { maxSize: string; maxFile: number };
  /** healthcheck-or-http: the image's own health check when it has one, else any HTTP answer on
   * `path`; http: any HTTP answer on `path`, whatever the health check says. */
  readiness: { kind: 'healthcheck-or-http' | 'http'; path: string };
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
  'routingMode' | 'baseDomain' | 'publicScheme' | 'stripPathPrefix' | 'traefik' | 'containers' | 'access' | 'templates'
>;

/** The catalogue's default template (the one a person without a choice gets). */
export function defaultTemplateOf(config: Pick<PlanConfig, 'templates'>): Template {
  const found = config.templates.list.find((t) => t.default) ?? config.templates.list[0];
  if (!found) throw new Error('the catalogue has no template');
  return found;
}

function readinessOf(t: Template): WorkloadPlan['readiness'] {
  if (t.readiness && t.readiness !== 'healthcheck') return { kind: 'http', path: t.readiness.http };
  return { kind: 'healthcheck-or-http', path: '/' };
}

/**
 * A person's plan for a template (the catalogue's default when absent); `quota` is the admin's
 * per-person limits layer (see limits.ts for the rule).
 */
export function planFromConfig(config: PlanConfig, person: Person, template?: Template, quota?: LimitLayer): WorkloadPlan {
  const c = config.containers;
  const t = template ?? defaultTemplateOf(config);
  const defaults: Limits = { memoryBytes: c.memoryBytes, cpuQuota: c.cpuQuota, cpuPeriod: c.cpuPeriod, pidsLimit: c.pidsLimit };
  return {
    person: { id: person.id, username: person.username },
    template: t.name,
    name: containerName(config, person),
    volume: volumeName(config, person),
    image: t.image,
    port: t.port,
    ...(t.command ? { command: t.command } : {}),
    env: {
      SPAWNER_USER: person.username,
      SPAWNER_USER_ID: String(person.id),
      SPAWNER_PUBLIC_URL: serviceUrl(config, person.username),
      SPAWNER_BASE_PATH: servicePath(config, person.username),
      ...t.env,
    },
    user: t.user ?? c.user,
    dataPath: t.dataPath ?? c.dataPath,
    limits: effectiveLimits(defaults, t.limits, quota).limits,
    readOnly: t.readOnly ?? c.readOnly,
    tmpfsBytes: c.tmpfsBytes,
    capAdd: c.capAdd,
    logs: { maxSize: c.logMaxSize, maxFile: c.logMaxFile },
    readiness: readinessOf(t),
    idle: { idleTimeoutMs: t.idleTimeoutMs ?? c.idleTimeoutMs, pauseAfterMs: t.pauseAfterMs ?? c.pauseAfterMs },
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

/** Plans from the catalogue and each person's choice (users.template, users.allowed_templates). */
export class CataloguePlanSource implements PlanSource {
  constructor(
    private readonly config: PlanConfig,
    private readonly users: { findById(id: number): Promise<(TemplateUser & { template: string | null }) | undefined> },
  ) {}

  nameFor(person: Person): string {
    return containerName(this.config, person);
  }

  async planFor(person: Person): Promise<WorkloadPlan> {
    const user = await this.users.findById(person.id);
    // A person deleted meanwhile: the default plan still names and removes their workload.
    const template = user ? templateOf(this.config.templates.list, user) : undefined;
    return planFromConfig(this.config, person, template);
  }
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
