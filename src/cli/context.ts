// What a CLI command works with: the server's config loader and stores (SQLite or PostgreSQL, as
// configured), the audit log, and, only for the commands that need it, the Docker backend and
// container manager, built as wiring.ts builds them.
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { openStores } from '../db/open.js';
import type { Stores } from '../db/stores.js';
import { AuditLog } from '../audit/log.js';
import { AccountService } from '../auth/accounts.js';
import { reservedNames } from '../addressing.js';
import { createDockerClient, DockerodeEngine } from '../containers/docker/engine.js';
import { DockerBackend } from '../containers/docker/backend.js';
import { ContainerManager } from '../containers/manager.js';
import { ConfigPlanSource } from '../containers/plan.js';
import { PeopleService } from '../services/people.js';

export interface CliContext {
  config: Readonly<Config>;
  stores: Stores;
  audit: AuditLog;
  logger: Logger;
  /** The account verbs; the container manager behind them connects to Docker on first use. */
  people(): PeopleService;
  /** What the command prints for the operator (stdout). */
  print(line: string): void;
  /** The whole of stdin, for --password-stdin. */
  readStdin(): Promise<string>;
}

export async function openContext(
  env: NodeJS.ProcessEnv,
  io: Pick<CliContext, 'print' | 'readStdin'>,
): Promise<CliContext & { close(): Promise<void> }> {
  const config = loadConfig(env);
  // Logs go to stderr at warn and above: stdout is the command's answer.
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, destination: process.stderr });
  const stores = await openStores(config, logger);
  const audit = new AuditLog(stores.audit, logger, config.console.auditRetentionDays);
  let people: PeopleService | undefined;
  return {
    config,
    stores,
    audit,
    logger,
    ...io,
    people: () =>
      (people ??= new PeopleService({
        users: stores.users,
        accounts: new AccountService(stores.users, {
          bcryptCost: config.bcryptCost,
          nameRules: { reserved: reservedNames(config) },
          serviceAccess: config.access.defaultVisibility,
          adminUsers: config.console.adminUsers,
        }),
        containers: new ContainerManager(
          new DockerBackend(new DockerodeEngine(createDockerClient(config.docker)), config.traefik.network, logger),
          new ConfigPlanSource(config),
          { recordContainer: (id, c) => stores.users.setContainer(id, c) },
          logger,
        ),
        // The server's access table checks the epoch it reads from the row on its next reload;
        // the running server also refuses the disabled person's session on its next request.
        endAccess: async (id) => void (await stores.users.bumpAccessEpoch(id)),
        forget: () => undefined,
        audit,
      })),
    close: async () => {
      await audit.flush();
      await stores.close();
    },
  };
}
