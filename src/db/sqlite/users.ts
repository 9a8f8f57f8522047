// The users table on SQLite, behind the UserStore interface. better-sqlite3 is synchronous: each
// method does its work at once and hands back a settled promise, so callers are written for a
// database that answers later (PostgreSQL) while SQLite keeps its speed.
import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';
import { users } from './schema.js';
import {
  DuplicateUserError,
  type ContainerRecord,
  type NewUser,
  type ServiceAccess,
  type User,
  type UserStore,
  type Approval,
  type Quota,
  type UserPage,
  type UserPageQuery,
} from '../stores.js';

export class SqliteUserStore implements UserStore {
  private activityStatement: Statement<[number, number]> | undefined;
  private containerStatement: Statement<[string | null, string | null, number]> | undefined;

  /** Built once: every request's session looks its person up by id (passport's deserialize). */
  private readonly byId;

  constructor(private readonly db: Db) {
    this.byId = db
      .select()
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .prepare();
  }

  async findById(id: number): Promise<User | undefined> {
    return this.byId.get({ id });
  }

  async findByIds(ids: number[]): Promise<User[]> {
    const found: User[] = [];
    // In slices: SQLite limits the number of bound values in one statement.
    for (let i = 0; i < ids.length; i += 500) {
      found.push(
        ...this.db
          .select()
          .from(users)
          .where(inArray(users.id, ids.slice(i, i + 500)))
          .all(),
      );
    }
    return found;
  }

  async findByUsername(username: string): Promise<User | undefined> {
    return this.db
      .select()
      .from(users)
      .where(sql`lower(${users.username}) = lower(${username})`)
      .get();
  }

  async findByEmail(email: string): Promise<User | undefined> {
    return this.db
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = lower(${email})`)
      .get();
  }

  findByLogin(login: string): Promise<User | undefined> {
    return login.includes('@') ? this.findByEmail(login) : this.findByUsername(login);
  }

  async create(input: NewUser): Promise<User> {
    try {
      return this.db.insert(users).values(input).returning().get();
    } catch (error) {
      const field = uniqueViolation(error);
      if (field) throw new DuplicateUserError(field, { cause: error });
      throw error;
    }
  }

  async setContainer(id: number, container: ContainerRecord): Promise<void> {
    this.db.update(users).set({ containerId: container.id, containerName: container.name }).where(eq(users.id, id)).run();
  }

  /**
   * One prepared statement in one transaction (the sweep runs it on the event loop, so it must
   * take a millisecond, not one query build per row).
   */
  async recordActivity(batch: { id: number; at: Date }[]): Promise<void> {
    const client = this.db.$client;
    const statement = (this.activityStatement ??= client.prepare<[number, number]>('UPDATE users SET last_activity = ? WHERE id = ?'));
    client.transaction((rows: { id: number; at: Date }[]) => {
      for (const { id, at } of rows) statement.run(at.getTime(), id);
    })(batch);
  }

  /** Like recordActivity: one prepared statement in one transaction, for a thousand rows at start-up. */
  async correctContainers(updates: { id: number; container: ContainerRecord }[]): Promise<void> {
    const client = this.db.$client;
    const statement = (this.containerStatement ??= client.prepare<[string | null, string | null, number]>(
      'UPDATE users SET container_id = ?, container_name = ? WHERE id = ?',
    ));
    client.transaction((rows: { id: number; container: ContainerRecord }[]) => {
      for (const { id, container } of rows) statement.run(container.id, container.name, id);
    })(updates);
  }

  async delete(id: number): Promise<void> {
    this.db.delete(users).where(eq(users.id, id)).run();
  }

  async setServiceAccess(id: number, access: ServiceAccess): Promise<void> {
    this.db.update(users).set({ serviceAccess: access }).where(eq(users.id, id)).run();
  }

  async setTemplate(id: number, template: string): Promise<void> {
    this.db.update(users).set({ template }).where(eq(users.id, id)).run();
  }

  async setAllowedTemplates(id: number, names: string[] | null): Promise<void> {
    this.db.update(users).set({ allowedTemplates: names }).where(eq(users.id, id)).run();
  }

  async bumpAccessEpoch(id: number): Promise<number> {
    const row = this.db
      .update(users)
      .set({ accessEpoch: sql`${users.accessEpoch} + 1` })
      .where(eq(users.id, id))
      .returning({ epoch: users.accessEpoch })
      .get();
    return row?.epoch ?? 0;
  }

  async bumpServiceEpoch(id: number): Promise<number> {
    const row = this.db
      .update(users)
      .set({ serviceEpoch: sql`${users.serviceEpoch} + 1` })
      .where(eq(users.id, id))
      .returning({ epoch: users.serviceEpoch })
      .get();
    return row?.epoch ?? 0;
  }

  async all(): Promise<User[]> {
    return this.db.select().from(users).all();
  }

  async count(): Promise<number> {
    return (
      this.db
        .select({ n: sql<number>`count(*)` })
        .from(users)
        .get()?.n ?? 0
    );
  }

  async setAdmin(id: number, admin: boolean): Promise<void> {
    this.db.update(users).set({ isAdmin: admin }).where(eq(users.id, id)).run();
  }

  async promoteAdmins(usernames: readonly string[]): Promise<number[]> {
    if (usernames.length === 0) return [];
    const rows = this.db
      .update(users)
      .set({ isAdmin: true })
      .where(and(inArray(users.username, [...usernames]), eq(users.isAdmin, false)))
      .returning({ id: users.id })
      .all();
    return rows.map((r) => r.id);
  }

  async setDisabled(id: number, disabled: boolean): Promise<void> {
    this.db.update(users).set({ disabled }).where(eq(users.id, id)).run();
  }

  async setApproval(id: number, approval: Approval): Promise<void> {
    this.db.update(users).set({ approval }).where(eq(users.id, id)).run();
  }

  async setQuota(id: number, quota: Quota): Promise<void> {
    this.db
      .update(users)
      .set({ quotaMemoryBytes: quota.memoryBytes, quotaCpuQuota: quota.cpuQuota, quotaPidsLimit: quota.pidsLimit })
      .where(eq(users.id, id))
      .run();
  }

  async setPasswordHash(id: number, hash: string): Promise<void> {
    this.db.update(users).set({ passwordHash: hash }).where(eq(users.id, id)).run();
  }

  async page(query: UserPageQuery): Promise<UserPage> {
    if (query.onlyIds?.length === 0) return { items: [], total: 0 };
    const where = pageFilter(query);
    const total =
      this.db
        .select({ n: sql<number>`count(*)` })
        .from(users)
        .where(where)
        .get()?.n ?? 0;
    const items = this.db
      .select()
      .from(users)
      .where(where)
      .orderBy(...pageOrder(query))
      .limit(query.limit)
      .offset(query.offset)
      .all();
    return { items, total };
  }

  async countPending(): Promise<number> {
    return (
      this.db
        .select({ n: sql<number>`count(*)` })
        .from(users)
        .where(eq(users.approval, 'pending'))
        .get()?.n ?? 0
    );
  }
}

/** Which unique index refused a second username or e-mail in a SQLite error, if that is what it is. */
export function uniqueViolation(error: unknown): 'username' | 'email' | null {
  const message = error instanceof Error ? error.message : '';
  if (!/UNIQUE constraint failed/i.test(message) && (error as { code?: string })?.code !== 'SQLITE_CONSTRAINT_UNIQUE') return null;
  if (/email/i.test(message)) return 'email';
  return 'username';
}

/** The admin table's WHERE: name part (LIKE with its wildcards escaped), chosen ids, approval state. */
function pageFilter(query: UserPageQuery): SQL | undefined {
  const parts: SQL[] = [];
  if (query.nameContains) {
    const escaped = query.nameContains.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
    parts.push(sql`lower(${users.username}) like ${`%${escaped}%`} escape '\\'`);
  }
  if (query.onlyIds) parts.push(inArray(users.id, query.onlyIds));
  if (query.approval) parts.push(eq(users.approval, query.approval));
  return parts.length > 0 ? and(...parts) : undefined;
}

/** Most recent activity first (never-active last), then by name so pages are stable. */
function pageOrder(query: UserPageQuery): SQL[] {
  if (query.sort === 'activity') return [sql`${users.lastActivity} is null`, desc(users.lastActivity), sql`lower(${users.username})`];
  return [sql`lower(${users.username})`];
}
