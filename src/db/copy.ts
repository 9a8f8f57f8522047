// Moves an installation from SQLite to PostgreSQL: every table of the SQLite database copied into
// an EMPTY, migrated PostgreSQL database, in one transaction (all or nothing), rows read and
// written through the two drizzle schemas so each value keeps its meaning (timestamps, booleans).
// Tables are paired by name; a table that exists on one side only stops the copy, so a table
// added later is never silently left behind. Spawner must be stopped meanwhile.
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { getTableName, is, sql, Table } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import * as pgSchema from './pg/schema.js';
import * as sqliteSchema from './sqlite/schema.js';
import { openSqliteDatabase } from './sqlite/database.js';
import { openPgDatabase } from './pg/database.js';
import { databaseInUse } from './sqlite/processLock.js';

export class CopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyError';
  }
}

const CHUNK = 500;

const tablesOf = <T>(schema: Record<string, unknown>): Map<string, T> =>
  new Map(
    Object.values(schema)
      .filter((value) => is(value, Table))
      .map((table) => [getTableName(table as Table), table as T]),
  );

/** Referenced tables before the tables that reference them (foreign keys hold at every insert). */
function inDependencyOrder(tables: Map<string, PgTable>): string[] {
  const order: string[] = [];
  const visit = (name: string, path: string[]) => {
    if (order.includes(name) || path.includes(name)) return;
    for (const fk of getTableConfig(tables.get(name)!).foreignKeys) {
      const target = getTableName(fk.reference().foreignTable);
      if (target !== name) visit(target, [...path, name]);
    }
    order.push(name);
  };
  for (const name of [...tables.keys()].sort()) visit(name, []);
  return order;
}

export async function copySqliteToPostgres(sqlitePath: string, url: string): Promise<Record<string, number>> {
  if (databaseInUse(sqlitePath)) throw new CopyError(`a Spawner is running on ${sqlitePath}; stop it before copying`);
  const pgTables = tablesOf<PgTable>(pgSchema);
  const sqliteTables = tablesOf<SQLiteTable>(sqliteSchema);
  const onlyOne = [...pgTables.keys()].filter((n) => !sqliteTables.has(n)).concat([...sqliteTables.keys()].filter((n) => !pgTables.has(n)));
  if (onlyOne.length > 0) throw new CopyError(`the schemas disagree (tables on one side only: ${onlyOne.join(', ')})`);
  const source = openSqliteDatabase(sqlitePath);
  const target = await openPgDatabase(url);
  try {
    const order = inDependencyOrder(pgTables);
    for (const name of order) {
      const { rows } = await target.pool.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM "${name}") AS any`);
      if (rows[0]?.any) throw new CopyError(`the PostgreSQL database is not empty (table ${name} has rows); copy into an empty one`);
    }
    const counts: Record<string, number> = {};
    await target.db.transaction(async (tx) => {
      for (const name of order) {
        const rows = source.db.select().from(sqliteTables.get(name)!).all() as Record<string, unknown>[];
        for (let i = 0; i < rows.length; i += CHUNK) await tx.insert(pgTables.get(name)!).values(rows.slice(i, i + CHUNK));
        counts[name] = rows.length;
        // Serial columns: the next id after the copied ones, not 1 again.
        const serials = Object.values(getTableConfig(pgTables.get(name)!).columns).filter((c) => c.getSQLType() === 'serial');
        for (const column of serials) {
          await tx.execute(
            sql.raw(
              `SELECT setval(pg_get_serial_sequence('"${name}"', '${column.name}'), COALESCE((SELECT max("${column.name}") FROM "${name}"), 0) + 1, false)`,
            ),
          );
        }
      }
    });
    return counts;
  } finally {
    source.close();
    await target.close();
  }
}
