// Reads the environment once, validates every variable, converts units and returns a frozen
// config. Nothing else in Spawner reads process.env: everything it needs arrives through here.
import { z } from 'zod';
import { isolationConfig, isolationFields, type IsolationConfig } from './config/isolation.js';
import { parseByteSize, parseDuration } from './units.js';
import {
  DNS_LABEL_RE,
  DOCKER_NAME_RE,
  DOMAIN_RE,
  IMAGE_RE,
  bool,
  int,
  labelMap,
  list,
  optionalPattern,
  pattern,
  unit,
} from './config/fields.js';
import { isPostgresUrl, redactDatabaseUrl } from './db/pg/url.js';
import { resolveTemplates, templatesEnv, type TemplatesConfig } from './config/templates.js';
import { consoleConfig, consoleFields, type ConsoleConfig } from './config/console.js';
import { observeConfig, observeFields, type ObserveConfig } from './config/observe.js';

export type RoutingMode = 'subdomain' | 'path';

/** Secrets that .env.example ships; production refuses them like a missing secret. */
const PLACEHOLDER_SECRETS = new Set(['', 'change-me', 'changeme', 'dev-secret-key', 'replace-me-with-a-long-random-string']);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  SECRET_KEY: z.string().optional(),
  BASE_DOMAIN: pattern('localhost', DOMAIN_RE, 'a lowercase domain name such as apps.example.com'),
  SPAWNER_SUBDOMAIN: pattern('spawner', DNS_LABEL_RE, 'a DNS label such as spawner'),
  ROUTING_MODE: z.enum(['subdomain', 'path']).default('subdomain'),
  SPAWNER_PATH_PREFIX: pattern('/hub', /^\/[a-z0-9][a-z0-9-]{0,30}$/, 'a single path segment such as /hub'),
  PATH_STRIP_PREFIX: bool(true),
  TRAEFIK_NETWORK: pattern('web', DOCKER_NAME_RE, 'a Docker network name'),
  TRAEFIK_ENTRYPOINT: pattern('web', DOCKER_NAME_RE, 'a Traefik entrypoint name'),
  TRAEFIK_TLS_ENTRYPOINT: pattern('websecure', DOCKER_NAME_RE, 'a Traefik entrypoint name'),
  TRAEFIK_CERTRESOLVER: optionalPattern(DOCKER_NAME_RE, 'a Traefik certificate resolver name'),
  USER_TEMPLATE_IMAGE: pattern('user-service-template:latest', IMAGE_RE, 'a Docker image reference'),
  NUDGE_IMAGE: optionalPattern(IMAGE_RE, 'a Docker image reference'),
  USER_CONTAINER_PORT: int(8080, 1, 65535),
  USER_DATA_PATH: pattern('/data', /^\/[a-zA-Z0-9_./-]*$/, 'an absolute path inside the container'),
  CONTAINER_NAME_PREFIX: pattern('user', DNS_LABEL_RE, 'a DNS label such as user'),
  CONTAINER_EXTRA_LABELS: labelMap,
  DOCKER_SOCKET: z.string().optional(),
  DOCKER_HOST: optionalPattern(/^(tcp|http|https|unix):\/\/[^\s]+$/, 'tcp://host:port or unix:///path'),
  DOCKER_TIMEOUT: unit('30s', parseDuration, 'a duration such as 30s'),
  SPAWNER_PORT: int(5000, 0, 65535),
  // Traefik reaches Spawner on the host's loopback (docker-compose.yml runs both with host
  // networking); people's containers cannot reach the host's loopback.
  SPAWNER_LISTEN_HOST: z.string().default('127.0.0.1'),
  // Only the proxy in front: a private-range default would let any container on a Docker network
  // claim any client address in X-Forwarded-For.
  TRUST_PROXY: z.string().default('loopback'),
  ...isolationFields,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEFAULT_MEMORY_LIMIT: unit('512m', parseByteSize, 'a size such as 512m or 1g'),
  DEFAULT_CPU_QUOTA: int(50000, 1000, 10_000_000),
  CONTAINER_PIDS_LIMIT: int(256, 16, 100_000),
  CONTAINER_CAP_ADD: list(/^[A-Z_]{2,32}$/, 'a comma-separated list of capability names such as NET_BIND_SERVICE'),
  CONTAINER_READ_ONLY: bool(false),
  CONTAINER_TMPFS_SIZE: unit('64m', parseByteSize, 'a size such as 64m'),
  CONTAINER_USER: optionalPattern(/^[1-9]\d{0,9}(:\d{1,10})?$/, 'a non-root uid or uid:gid such as 1000:1000'),
  CONTAINER_LOG_MAX_SIZE: pattern('10m', /^\d+[kmg]$/, 'a size such as 10m'),
  CONTAINER_LOG_MAX_FILE: int(3, 1, 100),
  CONTAINER_IDLE_TIMEOUT: unit('3600', parseDuration, 'seconds or a duration such as 1h (0 disables)'),
  IDLE_SWEEP_INTERVAL: unit('60s', parseDuration, 'a duration such as 60s'),
  CONTAINER_PAUSE_AFTER: unit('0', parseDuration, 'seconds or a duration such as 10m (0: no pause stage)'),
  TRAEFIK_API_URL: optionalPattern(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'an http(s) URL such as http://traefik:8080'),
  TRAEFIK_METRICS_URL: optionalPattern(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'an http(s) URL such as http://traefik:8080/metrics'),
  WAKE_TIMEOUT: unit('60s', parseDuration, 'a duration such as 60s'),
  WAKE_HOLD: unit('1500ms', parseDuration, 'a duration such as 1500ms'),
  WAKE_RATE_LIMIT_PER_MINUTE: int(20, 1, 100_000),
  WAKE_IGNORE_USER_AGENTS: z
    .string()
    .default(
      'bot,crawler,spider,slurp,uptime,pingdom,monitor,statuscake,healthcheck,curl/,wget/,python-requests,go-http-client,httpclient,prometheus,blackbox',
    )
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    ),
  DATABASE_PATH: z.string().min(1).default('data/spawner.db'),
  // The error names the URL without its password: config errors are printed and logged.
  DATABASE_URL: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      if (!isPostgresUrl(v.trim())) {
        ctx.addIssue({ code: 'custom', message: `must be a postgres:// or postgresql:// URL (got "${redactDatabaseUrl(v.trim())}")` });
        return z.NEVER;
      }
      return v.trim();
    }),
  BCRYPT_COST: int(12, 4, 15),
  SESSION_IDLE_TIMEOUT: unit('12h', parseDuration, 'a duration such as 12h'),
  SESSION_MAX_AGE: unit('7d', parseDuration, 'a duration such as 7d'),
  RATE_LIMIT_LOGIN_PER_MINUTE: int(5, 1, 100_000),
  RATE_LIMIT_SIGNUP_PER_HOUR: int(20, 1, 100_000),
  PASSWORD_CHECKS_AT_ONCE: int(32, 1, 1000),
  MAX_CONCURRENT_WAKES: int(50, 1, 100_000),
  SERVICE_ACCESS: z.enum(['owner', 'public']).default('owner'),
  ADMINS_REACH_SERVICES: bool(false),
  // Empty means the default: there is no switch that turns the check off (SERVICE_ACCESS=public does that per service).
  TRAEFIK_AUTH_MIDDLEWARE: pattern(
    'spawner-auth@docker',
    /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,127}(@[a-z0-9]+)?$/,
    'a Traefik middleware name such as spawner-auth@docker',
  ),
  ...templatesEnv,
  ...consoleFields,
  ...observeFields,
});

export interface Config {
  env: 'development' | 'production' | 'test';
  secretKey: string | undefined;
  baseDomain: string;
  routingMode: RoutingMode;
  /** Host name Spawner itself answers on in subdomain mode (spawner.<domain>). */
  spawnerHost: string;
  /** Where Spawner's own pages live: '' in subdomain mode, e.g. '/hub' in path mode. */
  basePath: string;
  stripPathPrefix: boolean;
  publicScheme: 'http' | 'https';
  traefik: {
    network: string;
    entrypoint: string;
    tlsEntrypoint: string;
    certResolver: string | undefined;
    /** Image of the nudge container; undefined = the tiny one Spawner builds itself. */
    nudgeImage: string | undefined;
  };
  /** How people's containers are kept apart on TRAEFIK_NETWORK. */
  isolation: IsolationConfig;
  containers: {
    image: string;
    port: number;
    dataPath: string;
    namePrefix: string;
    extraLabels: Readonly<Record<string, string>>;
    memoryBytes: number;
    cpuQuota: number;
    cpuPeriod: number;
    pidsLimit: number;
    capAdd: readonly string[];
    readOnly: boolean;
    tmpfsBytes: number;
    user: string | undefined;
    logMaxSize: string;
    logMaxFile: number;
    idleTimeoutMs: number;
    pauseAfterMs: number;
  };
  /** The operator's catalogue (TEMPLATES_FILE) or the single `default` template. */
  templates: TemplatesConfig;
  lifecycle: {
    sweepIntervalMs: number;
    wakeTimeoutMs: number;
    /** Wakes in progress at once; more get 503 and Docker is not asked. */
    maxConcurrentWakes: number;
    /** How long a wake holds the request before showing the starting page. */
    wakeHoldMs: number;
    wakeRateLimitPerMinute: number;
    wakeIgnoreUserAgents: readonly string[];
  };
  /** Traefik's API (readiness of a woken service) and Prometheus metrics (activity), both optional. */
  traefikApi: { url: string | undefined; metricsUrl: string | undefined };
  docker: { host: string | undefined; socketPath: string; timeoutMs: number };
  http: { port: number; listenHost: string; trustProxy: string };
  logLevel: string;
  databasePath: string;
  /** PostgreSQL instead of the SQLite file when set. Holds a password: log redactDatabaseUrl(it). */
  databaseUrl: string | undefined;
  bcryptCost: number;
  session: { idleTimeoutMs: number; maxAgeMs: number };
  rateLimits: {
    loginPerMinute: number;
    signupPerHour: number;
    /** bcrypt work (logins, signups) in progress at once; more gets 429 at once instead of queueing. */
    passwordChecksAtOnce: number;
  };
  access: {
    /** New accounts' service visibility. */
    defaultVisibility: 'owner' | 'public';
    adminsReachServices: boolean;
    /** The forwardAuth middleware on people's routers. */
    traefikMiddleware: string;
    /** How long an access cookie lives (the session's idle timeout). */
    cookieTtlMs: number;
  };
  /** Admins, signup policy, limits, audit retention (config/console.ts). */
  console: ConsoleConfig;
  /** /metrics and live logs (config/observe.ts). */
  observe: ObserveConfig;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** unix:///var/run/docker.sock, unix://var/run/docker.sock (the seed's form) or a plain path. */
function socketPathOf(value: string | undefined): string | null {
  const raw = (value ?? '').trim() || '/var/run/docker.sock';
  const path = raw.startsWith('unix://') ? raw.slice('unix://'.length) : raw;
  const absolute = path.startsWith('/') ? path : `/${path}`;
  return /^\/[^\s]+$/.test(absolute) ? absolute : null;
}

export function loadConfig(env: NodeJS.ProcessEnv): Readonly<Config> {
  const parsed = schema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.') || 'environment'}: ${issue.message}`);
    }
  }
  const socketPath = socketPathOf(env.DOCKER_SOCKET);
  if (socketPath === null) problems.push(`DOCKER_SOCKET: must be unix:///path/to/docker.sock (got "${env.DOCKER_SOCKET}")`);
  if (parsed.success) {
    const e = parsed.data;
    const secret = e.SECRET_KEY?.trim();
    if (e.NODE_ENV === 'production' && (!secret || PLACEHOLDER_SECRETS.has(secret.toLowerCase()))) {
      problems.push('SECRET_KEY: must be set to a long random string in production (e.g. `openssl rand -hex 32`)');
    } else if (secret && secret.length < 32 && e.NODE_ENV === 'production') {
      problems.push('SECRET_KEY: must be at least 32 characters in production');
    }
    if (e.CONTAINER_PAUSE_AFTER > 0 && e.CONTAINER_IDLE_TIMEOUT > 0 && e.CONTAINER_PAUSE_AFTER >= e.CONTAINER_IDLE_TIMEOUT) {
      problems.push('CONTAINER_PAUSE_AFTER: must be shorter than CONTAINER_IDLE_TIMEOUT (pausing comes first)');
    }
    if (e.SESSION_MAX_AGE < e.SESSION_IDLE_TIMEOUT) {
      problems.push('SESSION_MAX_AGE: must not be shorter than SESSION_IDLE_TIMEOUT');
    }
  }
  // The catalogue is checked even when other settings are wrong, so one start reports everything.
  const e0 = parsed.success ? parsed.data : undefined;
  const resolved = resolveTemplates(env.TEMPLATES_FILE?.trim() || undefined, {
    image: e0?.USER_TEMPLATE_IMAGE ?? '',
    port: e0?.USER_CONTAINER_PORT ?? 0,
    idleTimeoutMs: e0?.CONTAINER_IDLE_TIMEOUT ?? 0,
    pauseAfterMs: e0?.CONTAINER_PAUSE_AFTER ?? 0,
  });
  if ('problems' in resolved) problems.push(...resolved.problems);
  const templates = 'templates' in resolved ? resolved.templates : undefined;
  if (problems.length > 0 || !parsed.success || socketPath === null || !templates) throw new ConfigError(problems);

  const e = parsed.data;
  const secret = e.SECRET_KEY?.trim();
  const config: Config = {
    env: e.NODE_ENV,
    secretKey: secret && !PLACEHOLDER_SECRETS.has(secret.toLowerCase()) ? secret : undefined,
    baseDomain: e.BASE_DOMAIN,
    routingMode: e.ROUTING_MODE,
    spawnerHost: `${e.SPAWNER_SUBDOMAIN}.${e.BASE_DOMAIN}`,
    basePath: e.ROUTING_MODE === 'path' ? e.SPAWNER_PATH_PREFIX : '',
    stripPathPrefix: e.PATH_STRIP_PREFIX,
    publicScheme: e.TRAEFIK_CERTRESOLVER ? 'https' : 'http',
    traefik: {
      network: e.TRAEFIK_NETWORK,
      entrypoint: e.TRAEFIK_ENTRYPOINT,
      tlsEntrypoint: e.TRAEFIK_TLS_ENTRYPOINT,
      certResolver: e.TRAEFIK_CERTRESOLVER,
      nudgeImage: e.NUDGE_IMAGE,
    },
    isolation: isolationConfig(e),
    containers: {
      image: e.USER_TEMPLATE_IMAGE,
      port: e.USER_CONTAINER_PORT,
      dataPath: e.USER_DATA_PATH,
      namePrefix: e.CONTAINER_NAME_PREFIX,
      extraLabels: Object.freeze(e.CONTAINER_EXTRA_LABELS),
      memoryBytes: e.DEFAULT_MEMORY_LIMIT,
      cpuQuota: e.DEFAULT_CPU_QUOTA,
      cpuPeriod: 100_000,
      pidsLimit: e.CONTAINER_PIDS_LIMIT,
      capAdd: Object.freeze(e.CONTAINER_CAP_ADD),
      readOnly: e.CONTAINER_READ_ONLY,
      tmpfsBytes: e.CONTAINER_TMPFS_SIZE,
      user: e.CONTAINER_USER,
      logMaxSize: e.CONTAINER_LOG_MAX_SIZE,
      logMaxFile: e.CONTAINER_LOG_MAX_FILE,
      idleTimeoutMs: e.CONTAINER_IDLE_TIMEOUT,
      pauseAfterMs: e.CONTAINER_PAUSE_AFTER,
    },
    templates,
    lifecycle: {
      sweepIntervalMs: e.IDLE_SWEEP_INTERVAL,
      wakeTimeoutMs: e.WAKE_TIMEOUT,
      wakeHoldMs: e.WAKE_HOLD,
      maxConcurrentWakes: e.MAX_CONCURRENT_WAKES,
      wakeRateLimitPerMinute: e.WAKE_RATE_LIMIT_PER_MINUTE,
      wakeIgnoreUserAgents: Object.freeze(e.WAKE_IGNORE_USER_AGENTS),
    },
    traefikApi: {
      url: e.TRAEFIK_API_URL?.replace(/\/$/, ''),
      metricsUrl: e.TRAEFIK_METRICS_URL ?? (e.TRAEFIK_API_URL ? `${e.TRAEFIK_API_URL.replace(/\/$/, '')}/metrics` : undefined),
    },
    docker: { host: e.DOCKER_HOST, socketPath, timeoutMs: e.DOCKER_TIMEOUT },
    http: { port: e.SPAWNER_PORT, listenHost: e.SPAWNER_LISTEN_HOST, trustProxy: e.TRUST_PROXY },
    logLevel: e.LOG_LEVEL,
    databasePath: e.DATABASE_PATH,
    databaseUrl: e.DATABASE_URL,
    bcryptCost: e.BCRYPT_COST,
    session: { idleTimeoutMs: e.SESSION_IDLE_TIMEOUT, maxAgeMs: e.SESSION_MAX_AGE },
    rateLimits: {
      loginPerMinute: e.RATE_LIMIT_LOGIN_PER_MINUTE,
      signupPerHour: e.RATE_LIMIT_SIGNUP_PER_HOUR,
      passwordChecksAtOnce: e.PASSWORD_CHECKS_AT_ONCE,
    },
    access: {
      defaultVisibility: e.SERVICE_ACCESS,
      adminsReachServices: e.ADMINS_REACH_SERVICES,
      traefikMiddleware: e.TRAEFIK_AUTH_MIDDLEWARE,
      cookieTtlMs: e.SESSION_IDLE_TIMEOUT,
    },
    console: consoleConfig(e),
    observe: observeConfig(e),
  };
  return deepFreeze(config);
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object' && !Object.isFrozen(child)) deepFreeze(child as object);
  }
  return Object.freeze(value);
}
