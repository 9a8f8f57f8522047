// The audit log on PostgreSQL, behind the AuditStore interface: append, read newest first with
// filters (each an index: time, action+time, target+time, actor+time), and the retention prune.
// There is no update, and no delete but the prune: the log is append-only by construction.
import { and, count, desc, eq, gte, lt, lte, or, type SQL } from 'drizzle-orm';
import type { Db } from './database.js';
import { toAuditEntry } from '../auditRows.js';
import { auditLog } from './schema.js';
import type { AuditEntry, AuditQuery, AuditStore, StoredAuditEntry } from '../stores.js';

export class PgAuditStore implements AuditStore {
  constructor(private readonly db: Db) {}

  async append(entry: AuditEntry): Promise<void> {
    await this.db.insert(auditLog).values({
      at: entry.at,
      actorKind: entry.actor.kind,
      actorName: entry.actor.name,
      action: entry.action,
      target: entry.target ?? null,
      client: entry.client ?? null,
      result: entry.result,
      details: JSON.stringify(entry.details ?? {}),
    });
  }

  async query(query: AuditQuery): Promise<{ items: StoredAuditEntry[]; total: number }> {
    const where = filter(query);
    const [counted] = await this.db.select({ n: count() }).from(auditLog).where(where);
    const rows = await this.db
      .select()
      .from(auditLog)
      .where(where)
      .orderBy(desc(auditLog.at), desc(auditLog.id))
      .limit(query.limit)
      .offset(query.offset);
    return { items: rows.map(toAuditEntry), total: Number(counted?.n ?? 0) };
  }

  async pruneBefore(before: Date): Promise<number> {
    const gone = await this.db.delete(auditLog).where(lt(auditLog.at, before)).returning({ id: auditLog.id });
    return gone.length;
  }
}

function filter(query: AuditQuery): SQL | undefined {
  const parts: (SQL | undefined)[] = [];
  if (query.person) parts.push(or(eq(auditLog.actorName, query.person), eq(auditLog.target, query.person)));
  if (query.action) parts.push(eq(auditLog.action, query.action));
  if (query.from) parts.push(gte(auditLog.at, query.from));
  if (query.to) parts.push(lte(auditLog.at, query.to));
  const present = parts.filter((p): p is SQL => p !== undefined);
  return present.length > 0 ? and(...present) : undefined;
}
