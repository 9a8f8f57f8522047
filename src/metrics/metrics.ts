// Spawner's Prometheus metrics: one private Registry per app (tests build many apps in one
// process, and prom-client's global registry would mix them), the process and Node defaults, and
// Spawner's own `spawner_*` series. The rest of Spawner never calls prom-client: it reports
// through the few methods here, most of them wired to events that already exist (the manager's
// workload events, the spawn progress, the login handler's outcome). A scrape asks nothing of
// Docker: running containers come from the state cache, the user count from a short cache.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkloadEvents } from '../containers/events.js';

export type LoginResult = 'success' | 'failure';
export type SpawnResult = 'success' | 'failure';

/** Docker operations the error counter knows; pre-created so their zeros exist. */
export const DOCKER_OPERATIONS = ['ensure', 'restart', 'stop', 'pause', 'remove', 'remove-orphan', 'logs'] as const;
export type DockerOperation = (typeof DOCKER_OPERATIONS)[number];

/** JupyterHub's spawn buckets: a cold start with an image pull can take minutes. */
const SPAWN_BUCKETS = [0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300, 600];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const USER_COUNT_TTL_MS = 15_000;

export interface MetricsSources {
  version: string;
  /** The number of accounts (a database count; cached here, so a scrape rarely queries). */
  countUsers: () => Promise<number>;
  /** Running workloads as the state cache knows them (no backend call). */
  runningContainers: () => number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly spawnDuration: Histogram<'result'>;
  private readonly wakeDuration: Histogram<'result'>;
  private readonly logins: Counter<'result'>;
  private readonly idleStops: Counter;
  private readonly dockerErrors: Counter<'operation'>;
  private readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  private userCount: { value: number; at: number } | undefined;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters (promtool check metrics refuses them), and only the sums of
    // nodejs_active_{handles,requests,resources} by type, which stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      this.registry.removeSingleMetric(name);
    const countUsers = () => this.users();
    new Gauge({
      name: 'spawner_users',
      help: 'Accounts that exist.',
      registers,
      async collect() {
        this.set(await countUsers());
      },
    });
    new Gauge({
      name: 'spawner_running_containers',
      help: "People's containers that are running, from the state cache.",
      registers,
      collect: function () {
        this.set(sources.runningContainers());
      },
    });
    new Gauge({ name: 'spawner_build_info', help: 'The running Spawner version (always 1).', labelNames: ['version'], registers }).set(
      { version: sources.version },
      1,
    );
    this.spawnDuration = new Histogram({
      name: 'spawner_spawn_duration_seconds',
      help: "Time from a start of a person's container until its service answers (or the start failed).",
      labelNames: ['result'],
      buckets: SPAWN_BUCKETS,
      registers,
    });
    this.wakeDuration = new Histogram({
      name: 'spawner_wake_duration_seconds',
      help: 'Time a wake-on-request took until the service answered (or the wake failed).',
      labelNames: ['result'],
      buckets: SPAWN_BUCKETS,
      registers,
    });
    this.logins = new Counter({ name: 'spawner_logins_total', help: 'Password logins by result.', labelNames: ['result'], registers });
    this.idleStops = new Counter({ name: 'spawner_idle_stops_total', help: 'Containers stopped or paused for being idle.', registers });
    this.dockerErrors = new Counter({
      name: 'spawner_docker_errors_total',
      help: 'Container operations that failed in the engine, by operation.',
      labelNames: ['operation'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'spawner_http_request_duration_seconds',
      help: 'HTTP requests Spawner answered, by route template, method and status class.',
      labelNames: ['route', 'method', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    // Zeros exist before the first event, so rate() and alerts work from the start.
    for (const result of ['success', 'failure'] as const) {
      this.logins.labels(result).inc(0);
      this.spawnDuration.zero({ result });
      this.wakeDuration.zero({ result });
    }
    for (const operation of DOCKER_OPERATIONS) this.dockerErrors.labels(operation).inc(0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** Idle stops and Docker failures from the manager's events; account changes refresh the user count. */
  follow(events: WorkloadEvents): void {
    events.on('*', (event) => {
      if (event.reason === 'idle' && (event.type === 'stopped' || event.type === 'paused')) this.idleStops.inc();
      if (event.type === 'failed' && event.docker && event.operation) this.dockerError(event.operation as DockerOperation);
      if (event.type === 'removed' && event.withData) this.usersChanged();
    });
  }

  login(result: LoginResult): void {
    this.logins.labels(result).inc();
  }

  spawn(result: SpawnResult, seconds: number): void {
    this.spawnDuration.labels(result).observe(seconds);
  }

  wake(result: SpawnResult, seconds: number): void {
    this.wakeDuration.labels(result).observe(seconds);
  }

  dockerError(operation: DockerOperation): void {
    if ((DOCKER_OPERATIONS as readonly string[]).includes(operation)) this.dockerErrors.labels(operation).inc();
  }

  /** `route` is a template from the route table (or a fixed word), never a raw path. */
  httpRequest(route: string, method: string, status: number, seconds: number): void {
    this.httpDuration.labels(route, method, `${Math.floor(status / 100)}xx`).observe(seconds);
  }

  /** An account was created or deleted: the next scrape counts again. */
  usersChanged(): void {
    this.userCount = undefined;
  }

  private async users(): Promise<number> {
    if (this.userCount && Date.now() - this.userCount.at < USER_COUNT_TTL_MS) return this.userCount.value;
    const value = await this.sources.countUsers();
    this.userCount = { value, at: Date.now() };
    return value;
  }
}
