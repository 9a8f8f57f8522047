// Reconcile on start: brings the database's memory of people's containers in line with what
// the backend has. One list call finds every workload labelled spawner.managed=true, one read of
// the accounts, and one store call (one transaction) corrects stored container ids and names that
// changed (a container recreated by hand, a restored backup). Containers whose account no longer
// exists are reported, never removed: they may hold someone's work, and deleting is the
// operator's decision.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Stores, UserStore } from '../db/stores.js';
import type { ManagedWorkload } from '../containers/backend.js';
import { containerName } from '../containers/naming.js';
import { DockerUnavailable } from '../errors.js';

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
  containers: { listManaged(): Promise<ManagedWorkload[]> };
  users: Pick<UserStore, 'all' | 'correctContainers'>;
  /** Only asked whether it was closed, to tell a shutdown from a failure. */
  database: Pick<Stores, 'isOpen'>;
  config: Pick<Config, 'containers'>;
  logger: Logger;
}

/** Orphans are logged one by one up to this many; the summary always has the count. */
const MAX_ORPHANS_LOGGED = 50;

export interface WorkloadMatch {
  foreign: number;
  orphans: OrphanContainer[];
  /** This Spawner's workloads whose account exists, by account id. */
  matched: Map<number, ManagedWorkload>;
  /** Accounts whose stored id or name differs from what the backend has. */
  changed: { userId: number; id: string; name: string }[];
  missing: number;
}

type Account = { id: number; username: string; containerId: string | null; containerName: string | null };

/**
 * Pure matching of the backend's list to the accounts: a workload is ours only if this Spawner
 * would give exactly that name to exactly those labels; ours without its account is an orphan.
 */
export function matchWorkloads(
  listed: readonly ManagedWorkload[],
  accounts: readonly Account[],
  config: Pick<Config, 'containers'>,
): WorkloadMatch {
  const byId = new Map(accounts.map((account) => [account.id, account]));
  const matched = new Map<number, ManagedWorkload>();
  const orphans: OrphanContainer[] = [];
  const changed: WorkloadMatch['changed'] = [];
  let foreign = 0;
  for (const workload of listed) {
    const { name, userId, username } = workload;
    if (userId === null || !username || name !== containerName(config, { id: userId, username })) {
      foreign++;
      continue;
    }
    const account = byId.get(userId);
    if (!account || account.username !== username) {
      orphans.push({ name, id: workload.id, userId, username, state: workload.state });
      continue;
    }
    matched.set(userId, workload);
    if (account.containerId !== workload.id || account.containerName !== name) changed.push({ userId, id: workload.id, name });
  }
  let missing = 0;
  for (const account of accounts) {
    if (!matched.has(account.id) && (account.containerId || account.containerName)) missing++;
  }
  return { foreign, orphans, matched, changed, missing };
}

/** Throws when the backend cannot be asked; see reconcileOnStart for the start-up wrapper. */
export async function reconcileContainers(deps: ReconcileDeps): Promise<ReconcileReport> {
  const started = performance.now();
  const listed = await deps.containers.listManaged();
  const dockerMs = Math.round(performance.now() - started);
  const match = matchWorkloads(listed, await deps.users.all(), deps.config);
  // One store call, one transaction. What it writes is the backend's list, the truth, so a
  // request that records the same container meanwhile writes the same values.
  if (match.changed.length > 0) {
    await deps.users.correctContainers(match.changed.map((c) => ({ id: c.userId, container: { id: c.id, name: c.name } })));
  }
  const { foreign, orphans, missing } = match;
  const report = { managed: listed.length, foreign, matched: match.matched.size, updated: match.changed.length, orphans, missing };
  return { ...report, durationMs: Math.round(performance.now() - started), dockerMs };
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
