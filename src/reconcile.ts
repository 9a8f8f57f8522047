// Reconcile on start: brings the database's memory of people's containers in line with what
// Docker has. One list call finds every container labelled spawner.managed=true, one read of the
// accounts, and one store call (one transaction) corrects stored container ids and names that
// changed (a container recreated by hand, a restored backup). Containers whose account no longer
// exists are reported, never removed: they may hold someone's work, and deleting is the
// operator's decision.
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { ContainerRecord, Stores, User, UserStore } from './db/stores.js';
import type { ContainerSummary } from './containers/engine.js';
import { containerName } from './containers/naming.js';
import { DockerUnavailable } from './errors.js';

export interface OrphanContainer {
  name: string;
  id: string;
  userId: number;
  username: string;
  state: string;
}

export interface ReconcileReport {
  /** Containers labelled spawner.managed=true on the engine, this Spawner's or another's. */
  managed: number;
  /** Managed containers named by another Spawner (another CONTAINER_NAME_PREFIX): left alone. */
  foreign: number;
  /** This Spawner's containers whose account exists. */
  matched: number;
  /** Accounts whose stored container id or name was corrected. */
  updated: number;
  /** This Spawner's containers whose account no longer exists (left in place). */
  orphans: OrphanContainer[];
  /** Accounts with a stored container that Docker no longer has (created again at next login). */
  missing: number;
  /** The whole run, and the part of it spent waiting for Docker's list. */
  durationMs: number;
  dockerMs: number;
}

export interface ReconcileDeps {
  containers: { listManaged(): Promise<ContainerSummary[]> };
  users: Pick<UserStore, 'all' | 'correctContainers'>;
  /** Only asked whether it was closed, to tell a shutdown from a failure. */
  database: Pick<Stores, 'isOpen'>;
  config: Pick<Config, 'containers'>;
  logger: Logger;
}

/** Orphans are logged one by one up to this many; the summary always has the count. */
const MAX_ORPHANS_LOGGED = 50;

/** Throws when Docker cannot be asked; see reconcileOnStart for the start-up wrapper. */
export async function reconcileContainers(deps: ReconcileDeps): Promise<ReconcileReport> {
  const started = performance.now();
  const listed = await deps.containers.listManaged();
  const dockerMs = Math.round(performance.now() - started);
  const { corrections, ...report } = matchContainers(listed, await deps.users.all(), deps.config);
  // One store call, one transaction. What it writes is Docker's list, the truth, so a request
  // that records the same container meanwhile writes the same values.
  if (corrections.length > 0) await deps.users.correctContainers(corrections);
  return { ...report, durationMs: Math.round(performance.now() - started), dockerMs };
}

/** The matching itself, pure and in memory: which accounts need correcting, which containers are orphans. */
export function matchContainers(
  listed: ContainerSummary[],
  users: User[],
  config: Pick<Config, 'containers'>,
): Omit<ReconcileReport, 'durationMs' | 'dockerMs'> & { corrections: { id: number; container: ContainerRecord }[] } {
  const accounts = new Map(users.map((user) => [user.id, user]));
  const seen = new Set<number>();
  const orphans: OrphanContainer[] = [];
  const corrections: { id: number; container: ContainerRecord }[] = [];
  let foreign = 0;
  for (const container of listed) {
    const name = (container.Names?.[0] ?? '').replace(/^\//, '');
    const userId = Number(container.Labels?.['spawner.user_id']);
    const username = container.Labels?.['spawner.username'] ?? '';
    // Ours only if this Spawner would give exactly that name to exactly those labels.
    if (!Number.isSafeInteger(userId) || !username || name !== containerName(config, { id: userId, username })) {
      foreign++;
      continue;
    }
    const account = accounts.get(userId);
    if (!account || account.username !== username) {
      orphans.push({ name, id: container.Id, userId, username, state: container.State });
      continue;
    }
    seen.add(userId);
    if (account.containerId !== container.Id || account.containerName !== name) {
      corrections.push({ id: userId, container: { id: container.Id, name } });
    }
  }
  let missing = 0;
  for (const account of accounts.values()) {
    if (!seen.has(account.id) && (account.containerId || account.containerName)) missing++;
  }
  return { managed: listed.length, foreign, matched: seen.size, updated: corrections.length, orphans, missing, corrections };
}

/** Runs reconcile and logs the outcome; never throws, so start-up goes on without Docker. */
export async function reconcileOnStart(deps: ReconcileDeps): Promise<ReconcileReport | null> {
  const logger = deps.logger.child({ component: 'reconcile' });
  try {
    const report = await reconcileContainers(deps);
    for (const orphan of report.orphans.slice(0, MAX_ORPHANS_LOGGED)) {
      logger.warn(
        { container: orphan.name, id: orphan.id, userId: orphan.userId, username: orphan.username, state: orphan.state },
        'container of an account that no longer exists; left in place (remove it and its volume by hand if it is not needed)',
      );
    }
    const { orphans, ...counts } = report;
    logger.info({ ...counts, orphans: orphans.length }, 'reconciled containers with the database');
    return report;
  } catch (error) {
    if (error instanceof DockerUnavailable) {
      logger.warn({ err: error }, 'Docker is not reachable; reconcile skipped, Spawner starts anyway');
    } else if (!deps.database.isOpen()) {
      logger.debug('reconcile stopped: the database was closed (shutting down)');
    } else {
      logger.error({ err: error }, 'reconcile failed; Spawner starts anyway');
    }
    return null;
  }
}
