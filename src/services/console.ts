// What /admin shows, read in as few queries as the page needs: the overview counts, one page of
// people chosen, sorted and cut by the database (never all 10,000 rows), each with the state the
// container manager knows from its event-fed cache (no Docker call per row), and the audit log.
import type { ContainerManager } from '../containers/manager.js';
import type { AuditQuery, AuditStore, StoredAuditEntry, User, UserStore } from '../db/stores.js';
import type { Config } from '../config.js';

export const PAGE_SIZE = 50;

export interface PeopleFilter {
  q?: string | undefined;
  sort: 'name' | 'activity';
  onlyRunning: boolean;
  page: number;
}

export interface PersonRow {
  user: User;
  state: string;
  limits: { memoryBytes: number; cpus: number; pidsLimit: number };
}

export interface ConsolePage {
  overview: { accounts: number; running: number; pending: number; memoryCommittedBytes: number };
  rows: PersonRow[];
  total: number;
  pages: number;
}

export class ConsoleService {
  constructor(
    private readonly users: UserStore,
    private readonly audit: AuditStore,
    private readonly containers: Pick<ContainerManager, 'listManaged' | 'nameFor'>,
    private readonly config: Pick<Config, 'containers'>,
  ) {}

  async people(filter: PeopleFilter): Promise<ConsolePage> {
    // One list call (the state cache's) gives every workload's state; the page is then SQL.
    const workloads = await this.containers.listManaged().catch(() => []);
    const states = new Map<number, string>();
    // Only workloads whose name is the one this Spawner gives the labelled person (another
    // Spawner on the same engine may have a person with the same id).
    for (const w of workloads) {
      if (w.userId !== null && w.username !== null && w.name === this.containers.nameFor({ id: w.userId, username: w.username }))
        states.set(w.userId, w.state);
    }
    const runningIds = [...states].filter(([, s]) => s === 'running').map(([id]) => id);
    const [accounts, pending, page] = await Promise.all([
      this.users.count(),
      this.users.countPending(),
      this.users.page({
        ...(filter.q ? { nameContains: filter.q } : {}),
        ...(filter.onlyRunning ? { onlyIds: runningIds } : {}),
        sort: filter.sort,
        offset: (filter.page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
      }),
    ]);
    const rows = page.items.map((user) => ({ user, state: states.get(user.id) ?? 'missing', limits: this.limitsOf(user) }));
    // The default limit per running container (per-person quotas are counted on their own rows).
    const memoryCommittedBytes = runningIds.length * this.config.containers.memoryBytes;
    return {
      overview: { accounts, running: runningIds.length, pending, memoryCommittedBytes },
      rows,
      total: page.total,
      pages: Math.max(1, Math.ceil(page.total / PAGE_SIZE)),
    };
  }

  auditLog(query: Omit<AuditQuery, 'limit'>): Promise<{ items: StoredAuditEntry[]; total: number }> {
    return this.audit.query({ ...query, limit: PAGE_SIZE });
  }

  private limitsOf(user: User) {
    const c = this.config.containers;
    return {
      memoryBytes: user.quotaMemoryBytes ?? c.memoryBytes,
      cpus: (user.quotaCpuQuota ?? c.cpuQuota) / c.cpuPeriod,
      pidsLimit: user.quotaPidsLimit ?? c.pidsLimit,
    };
  }
}
