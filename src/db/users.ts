// The users table, behind intent-level functions so that routes and services never write SQL.
import { eq, sql } from 'drizzle-orm';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';
import { users, type UserRow } from './schema.js';

export type User = UserRow;

export class UserRepository {
  constructor(private readonly db: Db) {}

  findById(id: number): User | undefined {
    return this.db.select().from(users).where(eq(users.id, id)).get();
  }

  findByUsername(username: string): User | undefined {
    return this.db
      .select()
      .from(users)
      .where(sql`lower(${users.username}) = lower(${username})`)
      .get();
  }

  findByEmail(email: string): User | undefined {
    return this.db
      .select()
      .from(users)
      .where(sql`lower(${users.email}) = lower(${email})`)
      .get();
  }

  /** Looks a person up by the name or the e-mail address they typed at login. */
  findByLogin(login: string): User | undefined {
    return login.includes('@') ? this.findByEmail(login) : this.findByUsername(login);
  }

  create(input: { username: string; email: string; passwordHash: string }): User {
    return this.db.insert(users).values(input).returning().get();
  }

  setContainer(id: number, container: { id: string | null; name: string | null }): void {
    this.db.update(users).set({ containerId: container.id, containerName: container.name }).where(eq(users.id, id)).run();
  }

  /**
   * Stores many people's last activity at once: one prepared statement in one transaction (the
   * sweep runs it on the event loop, so it must take a millisecond, not one query build per row).
   */
  recordActivity(batch: { id: number; at: Date }[]): void {
    const client = this.db.$client;
    const statement = (this.activityStatement ??= client.prepare<[number, number]>('UPDATE users SET last_activity = ? WHERE id = ?'));
    client.transaction((rows: { id: number; at: Date }[]) => {
      for (const { id, at } of rows) statement.run(at.getTime(), id);
    })(batch);
  }

  private activityStatement: Statement<[number, number]> | undefined;

  delete(id: number): void {
    this.db.delete(users).where(eq(users.id, id)).run();
  }

  all(): User[] {
    return this.db.select().from(users).all();
  }

  count(): number {
    return (
      this.db
        .select({ n: sql<number>`count(*)` })
        .from(users)
        .get()?.n ?? 0
    );
  }
}

/** True when a SQLite error is the unique index refusing a second username or e-mail. */
export function uniqueViolation(error: unknown): 'username' | 'email' | null {
  const message = error instanceof Error ? error.message : '';
  if (!/UNIQUE constraint failed/i.test(message) && (error as { code?: string })?.code !== 'SQLITE_CONSTRAINT_UNIQUE') return null;
  if (/email/i.test(message)) return 'email';
  return 'username';
}
