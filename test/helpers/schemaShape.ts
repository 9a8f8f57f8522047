// What a migrated database looks like, read back from the database itself (SQLite's PRAGMAs,
// PostgreSQL's catalogs) and written in one dialect-neutral shape, so the two can be compared:
// tables, their columns (type family, nullability, primary key, whether there is a default), their
// indexes (unique or not, on which columns or expressions) and their foreign keys (what a column
// points at, what a delete does). Migration bookkeeping is left out.
import type Database from 'better-sqlite3';
import type pg from 'pg';

export interface ColumnShape {
  /** What the value is stored as: integer (SQLite keeps booleans, timestamps and bigints so), real, text, blob. */
  family: 'integer' | 'real' | 'text' | 'blob';
  notNull: boolean;
  primaryKey: boolean;
  /** Whether the column has a default (the expressions themselves differ by dialect); ignored for primary keys. */
  hasDefault: boolean;
}

export interface IndexShape {
  unique: boolean;
  /** Columns and expressions, e.g. `lower(username)`, without quotes. */
  on: string;
}

export interface SchemaShape {
  [table: string]: {
    columns: Record<string, ColumnShape>;
    indexes: Record<string, IndexShape>;
    /** column → `users.id on delete cascade` */
    foreignKeys: Record<string, string>;
  };
}

/** PostgreSQL's pg_constraint.confdeltype letters, in SQLite's words. */
const PG_DELETE_ACTIONS: Record<string, string> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' };

/** SQLite's type affinity rules (sqlite.org/datatype3.html, 3.1), which is what a column really holds. */
function sqliteFamily(declared: string): ColumnShape['family'] {
  const t = declared.toUpperCase();
  if (t.includes('INT')) return 'integer';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'text';
  if (t === '' || t.includes('BLOB')) return 'blob';
  return 'real';
}

/** PostgreSQL's types as SQLite would hold them, for the mapping the two schemas use. */
function pgFamily(dataType: string): ColumnShape['family'] {
  if (/^(smallint|integer|bigint|boolean|timestamp|date)/.test(dataType)) return 'integer';
  if (/^(real|double precision|numeric)/.test(dataType)) return 'real';
  if (dataType === 'bytea') return 'blob';
  return 'text';
}

/** `(lower("email"))`, `(\`expires_at\`)` → `lower(email)`, `expires_at`. */
const normaliseIndexTarget = (target: string): string =>
  target
    .replace(/["`]/g, '')
    .replace(/\s+/g, '')
    .replace(/::text/g, '')
    .toLowerCase();

const byName = <T>(entries: [string, T][]): Record<string, T> => Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));

export function sqliteShape(sqlite: Database.Database): SchemaShape {
  const tables = sqlite
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name",
    )
    .pluck()
    .all() as string[];
  const shape: SchemaShape = {};
  for (const table of tables) {
    const columns = sqlite.prepare(`PRAGMA table_info("${table}")`).all() as {
      name: string;
      type: string;
      notnull: number;
      dflt_value: string | null;
      pk: number;
    }[];
    const indexes = (sqlite.prepare(`PRAGMA index_list("${table}")`).all() as { name: string; unique: number; origin: string }[])
      // 'pk' and 'u' are SQLite's own indexes behind PRIMARY KEY / UNIQUE; columns carry those.
      .filter((index) => index.origin === 'c');
    const foreignKeys = sqlite.prepare(`PRAGMA foreign_key_list("${table}")`).all() as {
      from: string;
      table: string;
      to: string;
      on_delete: string;
    }[];
    shape[table] = {
      foreignKeys: byName(foreignKeys.map((f) => [f.from, `${f.table}.${f.to} on delete ${f.on_delete.toLowerCase()}`])),
      columns: byName(
        columns.map((c) => [
          c.name,
          {
            family: sqliteFamily(c.type),
            notNull: c.notnull === 1 || c.pk > 0,
            primaryKey: c.pk > 0,
            hasDefault: c.pk === 0 && c.dflt_value !== null,
          },
        ]),
      ),
      indexes: byName(
        indexes.map((index) => {
          const sql = sqlite.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?").pluck().get(index.name) as string;
          const target = /\bON\s+\S+\s*\((.*)\)\s*(WHERE.*)?$/is.exec(sql)?.[1] ?? sql;
          return [index.name, { unique: index.unique === 1, on: normaliseIndexTarget(target) }];
        }),
      ),
    };
  }
  return shape;
}

export async function pgShape(client: pg.Pool | pg.Client): Promise<SchemaShape> {
  const { rows: columns } = await client.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
    column_default: string | null;
  }>(
    `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
     WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
  );
  const { rows: keys } = await client.query<{ table_name: string; column_name: string }>(
    `SELECT k.table_name, k.column_name FROM information_schema.table_constraints c
     JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema
     WHERE c.table_schema = 'public' AND c.constraint_type = 'PRIMARY KEY'`,
  );
  const { rows: indexes } = await client.query<{ tablename: string; indexname: string; indexdef: string }>(
    `SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.schemaname = 'public'
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))`,
  );
  const { rows: foreignKeys } = await client.query<{
    table: string;
    column: string;
    target: string;
    target_column: string;
    on_delete: string;
  }>(
    `SELECT c.conrelid::regclass::text AS table, a.attname AS column, c.confrelid::regclass::text AS target,
            t.attname AS target_column, c.confdeltype AS on_delete
     FROM pg_constraint c
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     JOIN pg_attribute t ON t.attrelid = c.confrelid AND t.attnum = c.confkey[1]
     WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace`,
  );
  const isKey = (table: string, column: string) => keys.some((k) => k.table_name === table && k.column_name === column);
  const shape: SchemaShape = {};
  for (const table of [...new Set(columns.map((c) => c.table_name))].sort()) {
    shape[table] = {
      foreignKeys: byName(
        foreignKeys
          .filter((f) => f.table === table)
          .map((f) => [f.column, `${f.target}.${f.target_column} on delete ${PG_DELETE_ACTIONS[f.on_delete] ?? f.on_delete}`]),
      ),
      columns: byName(
        columns
          .filter((c) => c.table_name === table)
          .map((c) => {
            const primaryKey = isKey(table, c.column_name);
            return [
              c.column_name,
              {
                family: pgFamily(c.data_type),
                notNull: c.is_nullable === 'NO',
                primaryKey,
                hasDefault: !primaryKey && c.column_default !== null,
              },
            ];
          }),
      ),
      indexes: byName(
        indexes
          .filter((index) => index.tablename === table)
          .map((index) => {
            // `CREATE UNIQUE INDEX users_email_ci ON public.users USING btree (lower(email))`
            const target = /\bUSING\s+\w+\s*\((.*)\)\s*(WHERE.*)?$/is.exec(index.indexdef)?.[1] ?? index.indexdef;
            return [index.indexname, { unique: /^CREATE UNIQUE/i.test(index.indexdef), on: normaliseIndexTarget(target) }];
          }),
      ),
    };
  }
  return shape;
}
