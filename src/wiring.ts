// Builds Spawner's services from config and the three outside parts (stores, Docker, logger).
// server.ts and the tests both use it, so the app under test is wired exactly like production.
// The one place that composes the Docker backend (containers/docker/) with the rest, which only
// knows the backend port.
import type { Config } from './config.js';
import { reservedNames } from './addressing.js';
import type { Logger } from './logger.js';
import type { SessionStore, Stores, UserStore } from './db/stores.js';
import type { AppDeps } from './app.js';
import type { DockerEngine } from './containers/docker/engine.js';
import { DockerBackend } from './containers/docker/backend.js';
import { TraefikNudge } from './containers/docker/nudge.js';
import { CataloguePlanSource } from './containers/plan.js';
import { WorkloadEvents } from './containers/events.js';
import { StateCache } from './containers/stateCache.js';
import { AccountService } from './auth/accounts.js';
import { createPassport } from './auth/passport.js';
import { ContainerManager } from './containers/manager.js';
import { WorkspaceService } from './services/workspace.js';
import { AccountDeletion } from './services/accountDeletion.js';
import { HealthService } from './services/health.js';
import { AccessService } from './services/access.js';
import { version } from './version.js';
import { ActivityTracker } from './lifecycle/activity.js';
import { IdleSweeper } from './lifecycle/idleSweeper.js';
import { Readiness } from './lifecycle/readiness.js';
import { TraefikMetrics } from './lifecycle/traefikMetrics.js';
import { WakeService } from './lifecycle/wake.js';
import { localCoordination, type Coordination } from './coordination/coordination.js';
import { AuditLog } from './audit/log.js';
import { PeopleService } from './services/people.js';
import { ConsoleService } from './services/console.js';
import { SpawnProgress } from './lifecycle/progress.js';
import { readyWatch } from './lifecycle/readyWatch.js';
import { Metrics } from './metrics/metrics.js';
import { LiveLogs } from './logs/liveLogs.js';
import { DockerUnavailable } from './errors.js';

export interface Services extends AppDeps {
  sessionStore: SessionStore;
  activity: ActivityTracker;
  sweeper: IdleSweeper;
  /** Makes Traefik re-read Docker after a pause or unpause (it follows the manager's events). */
  nudge: TraefikNudge;
  /** People's workload states from the backend's events; start() follows them, stop() lets go. */
  state: StateCache;
}

export function createServices(parts: {
  config: Readonly<Config>;
  /** Opened and closed by the caller (the stores' timers stop with them). */
  stores: Stores;
  engine: DockerEngine;
  logger: Logger;
  sessionSecret: string;
  /** Replicas on PostgreSQL share person locks and a leader; one process needs neither. */
  coordination?: Coordination;
}): Services {
  const { config, stores, engine, logger } = parts;
  const coordination = parts.coordination ?? localCoordination();
  const { users, rateLimits } = stores;
  const sessionStore = stores.sessions;
  const activity = new ActivityTracker();
  const access = new AccessService(stores, config, reservedNames(config), parts.sessionSecret, logger.child({ component: 'access' }));
  // Loaded now; every check waits for it once (server.ts waits before it listens).
  void access.ready().catch((error: unknown) => logger.error({ err: error }, 'could not load the access table'));
  const progress = new SpawnProgress();
  // A scrape reads the state cache and a cached count: never a Docker call per container.
  const metrics = new Metrics({ version: version(), countUsers: () => users.count(), runningContainers: () => state.countRunning() });
  progress.onSpawnEnd((result, seconds) => metrics.spawn(result, seconds));
  const accounts = new AccountService(users, {
    bcryptCost: config.bcryptCost,
    nameRules: { reserved: reservedNames(config) },
    serviceAccess: config.access.defaultVisibility,
    templates: config.templates.list,
    onCreated: (user) => {
      access.register(user);
      metrics.usersChanged();
    },
    adminUsers: config.console.adminUsers,
  });
  const audit = new AuditLog(stores.audit, logger.child({ component: 'audit' }), config.console.auditRetentionDays);
  const backend = new DockerBackend(engine, config.traefik.network, logger.child({ component: 'containers' }));
  const events = new WorkloadEvents(logger.child({ component: 'events' }));
  const state = new StateCache(backend, logger.child({ component: 'state' }));
  const containers = new ContainerManager(
    backend,
    new CataloguePlanSource(config, users),
    { recordContainer: (id, c) => recordIfChanged(users, id, c) },
    logger.child({ component: 'containers' }),
    events,
    state,
    coordination.personLock,
    progress,
  );
  metrics.follow(events);
  // A stop or removal ends the start under way (its watch stops polling the engine).
  events.on('stopping', (event) => progress.abandon(event.person.id));
  const readiness = new Readiness(backend);
  const wake = new WakeService(
    containers,
    readiness,
    activity,
    logger.child({ component: 'wake' }),
    config.lifecycle.wakeTimeoutMs,
    config.lifecycle.maxConcurrentWakes,
    { progress, onWakeEnd: (result, seconds) => metrics.wake(result, seconds) },
  );
  const liveLogs = new LiveLogs(
    backend,
    (person) => containers.nameFor(person),
    config.observe.logs,
    logger.child({ component: 'logs' }),
    (error) => {
      if (error instanceof DockerUnavailable) metrics.dockerError('logs');
    },
  );
  const health = new HealthService(stores.health, backend, { version: version(), dockerTimeoutMs: 2000 });
  // A dropped event stream is the first sign of an engine outage: /health asks again at once.
  state.onConnectionChange((connected) => {
    if (!connected) health.forgetDocker();
  });
  // Traefik ignores pause and unpause: the nudge makes it drop a paused route and take it back.
  const nudge = new TraefikNudge(engine, config, logger.child({ component: 'nudge' }));
  nudge.follow(events);
  activity.follow(events);
  audit.followWorkloads(events);
  const people = new PeopleService({
    users,
    accounts,
    containers,
    endAccess: (id) => access.endAccess(id),
    forget: (id) => access.forget(id),
    audit,
  });
  return {
    audit,
    people,
    console: new ConsoleService(users, stores.audit, containers, config),
    config,
    logger,
    sessionSecret: parts.sessionSecret,
    sessionStore,
    rateLimitStoreFor: (prefix) => rateLimits.storeFor(prefix),
    passport: createPassport(accounts, users),
    accounts,
    access,
    users,
    containers,
    // A start the person asked for is followed until the service answers (progress reaches ready).
    workspace: new WorkspaceService(
      containers,
      activity,
      config,
      logger,
      readyWatch({
        containers,
        readiness,
        progress,
        timeoutMs: config.lifecycle.wakeTimeoutMs,
        logger: logger.child({ component: 'progress' }),
      }),
    ),
    progress,
    metrics,
    liveLogs,
    accountDeletion: new AccountDeletion(accounts, containers, users, access, logger),
    wake,
    reservedNames: reservedNames(config),
    activity,
    nudge,
    state,
    sweeper: new IdleSweeper({
      containers,
      users,
      activity,
      metrics: config.traefikApi.metricsUrl ? new TraefikMetrics(config.traefikApi.metricsUrl) : undefined,
      logger: logger.child({ component: 'idle' }),
      // Without Traefik's metrics Spawner cannot see use of a service, so it never guesses.
      enabled: Boolean(config.traefikApi.metricsUrl) && config.containers.idleTimeoutMs > 0,
      intervalMs: config.lifecycle.sweepIntervalMs,
      isLeader: () => coordination.leadership.isLeader(),
    }),
    health,
  };
}

/** A read per status, a write only when Docker reports something new (the usual case is no write). */
async function recordIfChanged(users: UserStore, id: number, container: { id: string | null; name: string | null }): Promise<void> {
  const user = await users.findById(id);
  if (user && (user.containerId !== container.id || user.containerName !== container.name)) await users.setContainer(id, container);
}
