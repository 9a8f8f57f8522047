// The shares table on PostgreSQL, behind the ShareStore interface: who else may reach a person's
// service. The unique index makes a second share of the same pair a no-op, as on SQLite.
import { and, eq } from 'drizzle-orm';
import type { Db } from './database.js';
import { shares } from './schema.js';
import type { ShareStore } from '../stores.js';

export class PgShareStore implements ShareStore {
  constructor(private readonly db: Db) {}

  async add(ownerId: number, userId: number): Promise<boolean> {
    const result = await this.db.insert(shares).values({ ownerId, userId }).onConflictDoNothing();
    return (result.rowCount ?? 0) > 0;
  }

  async remove(ownerId: number, userId: number): Promise<boolean> {
    const result = await this.db.delete(shares).where(and(eq(shares.ownerId, ownerId), eq(shares.userId, userId)));
    return (result.rowCount ?? 0) > 0;
  }

  async all(): Promise<{ ownerId: number; userId: number }[]> {
    return this.db.select({ ownerId: shares.ownerId, userId: shares.userId }).from(shares);
  }
}
