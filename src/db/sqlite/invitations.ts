// Invitations on SQLite, behind the InvitationStore interface. Only the token's sha256 is stored;
// consume() is one conditional UPDATE, so two signups racing with one link end with one account.
import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from './database.js';
import { invitations } from './schema.js';
import type { Invitation, InvitationStore } from '../stores.js';

type Row = typeof invitations.$inferSelect;

export class SqliteInvitationStore implements InvitationStore {
  constructor(private readonly db: Db) {}

  async create(input: { tokenHash: string; email: string | null; createdBy: string; expiresAt: Date }): Promise<Invitation> {
    const [row] = this.db.insert(invitations).values(input).returning().all();
    return toInvitation(row!);
  }

  async findByHash(tokenHash: string): Promise<Invitation | undefined> {
    const [row] = this.db.select().from(invitations).where(eq(invitations.tokenHash, tokenHash)).all();
    return row ? toInvitation(row) : undefined;
  }

  async consume(tokenHash: string, usedBy: string, now: Date): Promise<boolean> {
    const changed = this.db
      .update(invitations)
      .set({ usedAt: now, usedBy })
      .where(and(eq(invitations.tokenHash, tokenHash), isNull(invitations.usedAt), gt(invitations.expiresAt, now)))
      .returning({ id: invitations.id })
      .all();
    return changed.length === 1;
  }

  async recent(limit: number): Promise<Invitation[]> {
    const rows = this.db.select().from(invitations).orderBy(desc(invitations.createdAt), desc(invitations.id)).limit(limit).all();
    return rows.map(toInvitation);
  }
}

function toInvitation(row: Row): Invitation {
  const { tokenHash: _hash, ...rest } = row;
  return rest;
}
