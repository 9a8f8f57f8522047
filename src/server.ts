// The composition root: reads config, opens the database, connects to Docker, builds the app and
// listens. SIGTERM/SIGINT stop accepting, let in-flight requests finish, close the database and
// exit 0; people's containers keep running.
import 'dotenv/config';
import { createServer, type Server } from 'node:http';
import { loadConfig, ConfigError, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { openStores } from './db/open.js';
import { redactDatabaseUrl } from './db/pg/url.js';
import { DatabaseOpenError, type Stores } from './db/stores.js';
import { createDockerClient, DockerodeEngine } from './containers/docker/engine.js';
import { resolveSessionSecret } from './secret.js';
import { createServices, type Services } from './wiring.js';
import { createApp } from './app.js';
import { reconcileOnStart } from './lifecycle/reconcile.js';
import { ensureNetwork } from './containers/docker/prepare.js';
import { openCoordination, type OpenCoordination } from './coordination/open.js';
import { DatabaseInUseError } from './db/sqlite/processLock.js';
import { loadBackupConfig, type BackupConfig } from './config/backup.js';
import { scheduleBackups } from './backup/schedule.js';
import { applyAdminUsers } from './services/people.js';

const SHUTDOWN_DEADLINE_MS = 8_000;

function fail(message: string): never {
  // The logger may not exist yet; one readable line on stderr, no stack trace.
  process.stderr.write(`spawner: ${message}\n`);
  process.exit(1);
}

function listen(server: Server, config: Readonly<Config>): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_DEADLINE_MS);
    force.unref();
    // Keep-alive connections with no request in flight would hold close() open, and so would a
    // connection whose last request finishes after this point (for keepAliveTimeout, 5 s):
    // close idle ones now and again as the in-flight requests finish.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function onShutdown(server: Server, services: Services, stores: Stores, coordination: OpenCoordination, logger: Logger): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down; people’s containers keep running');
    void closeServer(server)
      .then(() => services.sweeper.stop())
      .then(() => services.state.stop())
      .then(() => services.activity.flush(services.users))
      .then(() => services.audit.stop())
      .then(() => services.audit.flush())
      .then(() => stores.close())
      // Last: the next replica leads from here, and the SQLite file is free for the next process.
      .then(() => coordination.close())
      .then(() => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'unclean shutdown');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(): Promise<void> {
  let config: Readonly<Config>;
  let backups: BackupConfig;
  try {
    config = loadConfig(process.env);
    backups = loadBackupConfig(process.env, config.databasePath);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  let coordination: OpenCoordination;
  try {
    coordination = openCoordination(config, logger);
  } catch (error) {
    if (error instanceof DatabaseInUseError) fail(error.message);
    throw error;
  }
  let stores: Stores;
  try {
    stores = await openStores(config, logger, () => coordination.leadership.isLeader());
  } catch (error) {
    if (error instanceof DatabaseOpenError) fail(error.message);
    throw error;
  }
  const sessionSecret = resolveSessionSecret(config, logger);
  const engine = new DockerodeEngine(createDockerClient(config.docker));
  const services = createServices({ config, stores, engine, logger, sessionSecret, coordination });
  // The access check answers from memory: fill it before the first request.
  try {
    await services.access.ready();
  } catch (error) {
    fail(`cannot load the access table: ${(error as Error).message}`);
  }
  try {
    await applyAdminUsers(stores.users, services.audit, config.console.adminUsers);
  } catch (error) {
    fail(`cannot apply ADMIN_USERS: ${(error as Error).message}`);
  }
  const app = createApp(services);
  const server = createServer(app);
  onShutdown(server, services, stores, coordination, logger);
  try {
    await listen(server, config);
  } catch (error) {
    fail(`cannot listen on ${config.http.listenHost}:${config.http.port}: ${(error as Error).message}`);
  }
  services.sweeper.start();
  services.state.start();
  services.audit.startPruning();
  if (config.containers.idleTimeoutMs > 0 && !config.traefikApi.metricsUrl) {
    logger.warn('idle shutdown is off: set TRAEFIK_API_URL (or TRAEFIK_METRICS_URL) so Spawner can see when services are used');
  }
  const address = server.address();
  logger.info(
    {
      port: typeof address === 'object' && address ? address.port : config.http.port,
      mode: config.routingMode,
      domain: config.baseDomain,
      // Which database, never its password.
      database: config.databaseUrl ? redactDatabaseUrl(config.databaseUrl) : config.databasePath,
    },
    'spawner listening',
  );
  // In the background: a Docker engine that is down or slow must not hold up start-up.
  // A network that would let people reach each other ends the process, whenever Docker answers.
  void ensureNetwork(engine, config.traefik.network, logger, config.containers.extraLabels, config.isolation).then(({ problem }) => {
    if (problem) fail(problem);
  });
  // Reconcile is the leader's: on SQLite that is this process at once, on PostgreSQL whichever
  // replica wins (again when leadership moves, as the new leader may have missed changes).
  coordination.leadership.onChange((leader) => {
    if (leader) void reconcileOnStart({ containers: services.containers, users: services.users, database: stores, config, logger });
  });
  scheduleBackups(
    backups,
    { path: config.databasePath, url: config.databaseUrl },
    () => coordination.leadership.isLeader(),
    logger.child({ component: 'backup' }),
  );
  coordination.leadership.start();
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
