// The audit log's writer: `audit.record({...})` is all other code calls (admin actions, signup
// decisions, logins, the CLI, tokens and invitations later). A failed write is logged and never
// fails the action it describes. It also follows the container manager's events for the
// lifecycle that no route records itself, and prunes rows older than AUDIT_RETENTION_DAYS.
import type { AuditEntry, AuditStore } from '../db/stores.js';
import type { Logger } from '../logger.js';
import type { WorkloadEvent, WorkloadEvents } from '../containers/events.js';
import { purgeEvery, type PurgeTimer } from '../db/purgeTimer.js';

export type AuditActor = AuditEntry['actor'];
export type AuditRecord = Omit<AuditEntry, 'at' | 'result'> & { at?: Date; result?: AuditEntry['result'] };

export const SYSTEM = (name: string): AuditActor => ({ kind: 'system', name });

const DAY_MS = 86_400_000;
const PRUNE_INTERVAL_MS = 3_600_000;

/**
 * Which workload events become rows, and as what. Reasons 'admin' and 'delete' are left out:
 * the admin action or the account deletion that caused them writes the one row (with its actor).
 */
function lifecycleRow(event: WorkloadEvent): AuditRecord | undefined {
  if (event.reason === 'admin' || event.reason === 'delete') return undefined;
  const action = {
    started: 'container.start',
    unpaused: 'container.unpause',
    stopped: 'container.stop',
    paused: 'container.pause',
    removed: 'container.remove',
    failed: 'container.fail',
  }[event.type as string];
  if (!action) return undefined;
  const reason = event.reason ?? 'unknown';
  const byPerson = reason === 'login' || reason === 'start' || reason === 'restart';
  return {
    actor: byPerson ? { kind: 'person', name: event.person.username } : SYSTEM(reason === 'idle' ? 'idle-sweep' : reason),
    action: reason === 'idle' && action === 'container.stop' ? 'container.idle-stop' : action,
    target: event.person.username,
    result: event.type === 'failed' ? 'failed' : 'ok',
    details: { reason, workload: event.workload, ...(event.error ? { error: event.error } : {}) },
  };
}

export class AuditLog {
  private pruner: PurgeTimer | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly store: AuditStore,
    private readonly logger: Logger,
    private readonly retentionDays = 0,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Appends one row; resolves when it is written (or its failure logged). Never rejects. */
  record(entry: AuditRecord): Promise<void> {
    const row: AuditEntry = { ...entry, at: entry.at ?? this.now(), result: entry.result ?? 'ok' };
    const write = this.store.append(row).catch((error: unknown) => {
      this.logger.error({ err: error, action: row.action }, 'could not write an audit row');
    });
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
    return write;
  }

  /** Resolves when every row recorded so far is written (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  followWorkloads(events: WorkloadEvents): () => void {
    return events.on('*', (event) => {
      const row = lifecycleRow(event);
      if (row) void this.record({ ...row, at: event.at });
    });
  }

  /** Deletes rows older than the retention; resolves to how many went (0 when kept for ever). */
  async prune(): Promise<number> {
    if (this.retentionDays <= 0) return 0;
    const gone = await this.store.pruneBefore(new Date(this.now().getTime() - this.retentionDays * DAY_MS));
    if (gone > 0) this.logger.info({ rows: gone, days: this.retentionDays }, 'audit rows past retention pruned');
    return gone;
  }

  /** The hourly prune, in the same jittered purge loop as sessions and rate limits. */
  startPruning(intervalMs = PRUNE_INTERVAL_MS): void {
    if (this.retentionDays > 0) this.pruner ??= purgeEvery(intervalMs, () => this.prune());
  }

  stop(): void {
    this.pruner?.stop();
    this.pruner = undefined;
  }
}
