// An audit row as both dialects store it (the same columns, details as JSON text) turned into the
// entry the console reads: one mapping for SQLite and PostgreSQL.
import type { StoredAuditEntry } from './stores.js';

export interface AuditRow {
  id: number;
  at: Date;
  actorKind: string;
  actorName: string;
  action: string;
  target: string | null;
  client: string | null;
  result: string;
  details: string;
}

export function toAuditEntry(row: AuditRow): StoredAuditEntry {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(row.details) as Record<string, unknown>;
  } catch {
    // Written by append() only; a row that does not parse is shown without details.
  }
  return {
    id: row.id,
    at: row.at,
    actor: { kind: row.actorKind as StoredAuditEntry['actor']['kind'], name: row.actorName },
    action: row.action,
    target: row.target,
    client: row.client,
    result: row.result as StoredAuditEntry['result'],
    details,
  };
}
