// The users table on PostgreSQL, behind the UserStore interface: the same behaviour as
// src/db/sqlite/users.ts, each call a round trip to the server.
import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
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

/**
 * PostgreSQL refuses a NUL character in any text (SQLite stores it), so a login typed with one
 * would be a server error; no stored name or address can contain one, so such a lookup finds
 * nobody without asking the server.
 */
export class PgUserStore implements UserStore {
  constructor(private readonly db: Db) {}

  async findById(id: number): Promise<User | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id));
    return row;
  }

  async findByIds(ids: number[]): Promise<User[]> {
    // One statement: PostgreSQL binds an array, whatever its length.
    if (ids.length === 0) return [];
    return this.db.select().from(users).where(inArray(users.id, ids));
  }

  async findByUsername(username: string): Promise<User | undefined> {
    if (username.includes('\u0000')) return undefined;
    const [row] = await this.db
      .select()
      .from(users)
      .where(sql`lower(${users.username}) = lower(${username})`);
    return row;
  }

  async findByEmail(email: string): Promise<User | undefined> {
    if (email.includes('\u0000')) return undefined;
    const [row] = await this.db
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = lower(${email})`);
    return row;
  }

  findByLogin(login: string): Promise<User | undefined> {
    return login.includes('@') ? this.findByEmail(login) : this.findByUsername(login);
  }

  async create(input: NewUser): Promise<User> {
    try {
      const [row] = await this.db.insert(users).values(input).returning();
      return row!;
    } catch (error) {
      const field = pgUniqueViolation(error);
      if (field) throw new DuplicateUserError(field, { cause: error });
      throw error;
    }
  }

  async setContainer(id: number, container: ContainerRecord): Promise<void> {
    await this.db.update(users).set({ containerId: container.id, containerName: container.name }).where(eq(users.id, id));
  }

  /** One statement for the whole batch (unnest of two arrays), so a thousand rows are one round trip. */
  async recordActivity(batch: { id: number; at: Date }[]): Promise<void> {
    if (batch.length === 0) return;
    await this.db.$client.query(
      `UPDATE users SET last_activity = b.at
       FROM unnest($1::int[], $2::timestamptz[]) AS b(id, at)
       WHERE users.id = b.id`,
      [batch.map((row) => row.id), batch.map((row) => row.at.toISOString())],
    );
  }

  /** Like recordActivity: one statement, for a thousand rows at start-up. */
  async correctContainers(updates: { id: number; container: ContainerRecord }[]): Promise<void> {
    if (updates.length === 0) return;
    await this.db.$client.query(
      `UPDATE users SET container_id = b.container_id, container_name = b.container_name
       FROM unnest($1::int[], $2::text[], $3::text[]) AS b(id, container_id, container_name)
       WHERE users.id = b.id`,
      [updates.map((u) => u.id), updates.map((u) => u.container.id), updates.map((u) => u.container.name)],
    );
  }

  async delete(id: number): Promise<void> {
    await this.db.delete(users).where(eq(users.id, id));
  }

  async setServiceAccess(id: number, access: ServiceAccess): Promise<void> {
    await this.db.update(users).set({ serviceAccess: access }).where(eq(users.id, id));
  }

  async setTemplate(id: number, template: string): Promise<void> {
    await this.db.update(users).set({ template }).where(eq(users.id, id));
  }

  async setAllowedTemplates(id: number, names: string[] | null): Promise<void> {
    await this.db.update(users).set({ allowedTemplates: names }).where(eq(users.id, id));
  }

  async bumpAccessEpoch(id: number): Promise<number> {
    const [row] = await this.db
      .update(users)
      .set({ accessEpoch: sql`${users.accessEpoch} + 1` })
      .where(eq(users.id, id))
      .returning({ epoch: users.accessEpoch });
    return row?.epoch ?? 0;
  }

  async bumpServiceEpoch(id: number): Promise<number> {
    const [row] = await this.db
      .update(users)
      .set({ serviceEpoch: sql`${users.serviceEpoch} + 1` })
      .where(eq(users.id, id))
      .returning({ epoch: users.serviceEpoch });
    return row?.epoch ?? 0;
  }

  /** In id order, as SQLite returns them (PostgreSQL's own order moves with every update). */
  async all(): Promise<User[]> {
    return this.db.select().from(users).orderBy(users.id);
  }

  async count(): Promise<number> {
    // count(*) is a bigint, which node-postgres hands over as a string.
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(users);
    return row?.n ?? 0;
  }

  async setAdmin(id: number, admin: boolean): Promise<void> {
    await this.db.update(users).set({ isAdmin: admin }).where(eq(users.id, id));
  }

  async promoteAdmins(usernames: readonly string[]): Promise<number[]> {
    if (usernames.length === 0) return [];
    const rows = await this.db
      .update(users)
      .set({ isAdmin: true })
      .where(and(inArray(users.username, [...usernames]), eq(users.isAdmin, false)))
      .returning({ id: users.id });
    return rows.map((r) => r.id);
  }

  async setDisabled(id: number, disabled: boolean): Promise<void> {
    await this.db.update(users).set({ disabled }).where(eq(users.id, id));
  }

  async setApproval(id: number, approval: Approval): Promise<void> {
    await this.db.update(users).set({ approval }).where(eq(users.id, id));
  }

  async setQuota(id: number, quota: Quota): Promise<void> {
    await this.db
      .update(users)
      .set({ quotaMemoryBytes: quota.memoryBytes, quotaCpuQuota: quota.cpuQuota, quotaPidsLimit: quota.pidsLimit })
      .where(eq(users.id, id));
  }

  async setPasswordHash(id: number, hash: string): Promise<void> {
    await this.db.update(users).set({ passwordHash: hash }).where(eq(users.id, id));
  }

  async page(query: UserPageQuery): Promise<UserPage> {
    if (query.onlyIds?.length === 0) return { items: [], total: 0 };
    const where = pageFilter(query);
    const [counted] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(users)
      .where(where);
    const items = await this.db
      .select()
      .from(users)
      .where(where)
      .orderBy(...pageOrder(query))
      .limit(query.limit)
      .offset(query.offset);
    return { items, total: counted?.n ?? 0 };
  }

  async countPending(): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(users)
      .where(eq(users.approval, 'pending'));
    return row?.n ?? 0;
  }
}

/** The unique indexes behind each field, as PostgreSQL names them in a 23505 error. */
const UNIQUE_FIELDS: Record<string, 'username' | 'email'> = {
  users_username_ci: 'username',
  users_email_ci: 'email',
};

/** Which unique index refused a second username or e-mail in a PostgreSQL error, if that is what it is. */
export function pgUniqueViolation(error: unknown): 'username' | 'email' | null {
  // drizzle wraps the driver's error; the server's code and constraint are on the cause.
  for (let e: unknown = error, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth += 1) {
    const { code, constraint } = e as { code?: unknown; constraint?: unknown };
    if (code === '23505' && typeof constraint === 'string') return UNIQUE_FIELDS[constraint] ?? null;
  }
  return null;
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
