// The two schemas (src/db/sqlite/schema.ts, src/db/pg/schema.ts) must describe the same database:
// both are migrated from scratch by their committed migrations and read back from the databases
// themselves, so a table, column, index or foreign key added to one dialect only fails here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/db/sqlite/database.js';
import { migrateOnce } from '../../src/db/pg/database.js';
import { adminQuery, dropTestDatabase, testDatabaseUrl } from '../helpers/postgres.js';
import { pgShape, sqliteShape, type SchemaShape } from '../helpers/schemaShape.js';

const name = `spawner_parity_${randomBytes(4).toString('hex')}`;
let dir: string;
let sqlite: SqliteDatabase;
let pool: pg.Pool;
let sqliteSide: SchemaShape;
let pgSide: SchemaShape;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spawner-parity-'));
  sqlite = openSqliteDatabase(join(dir, 'spawner.db'));
  await adminQuery(`CREATE DATABASE "${name}"`);
  await migrateOnce(testDatabaseUrl(name), 30_000);
  pool = new pg.Pool({ connectionString: testDatabaseUrl(name), max: 1 });
  sqliteSide = sqliteShape(sqlite.sqlite);
  pgSide = await pgShape(pool);
});

afterAll(async () => {
  await pool?.end();
  sqlite?.close();
  await dropTestDatabase(name);
  rmSync(dir, { recursive: true, force: true });
});

describe('the SQLite and PostgreSQL schemas', () => {
  it('when both are migrated from scratch, then they have the same tables', () => {
    expect(Object.keys(pgSide)).toEqual(Object.keys(sqliteSide));
    // Guards the comparison itself: an introspection that found nothing would agree with nothing.
    expect(Object.keys(sqliteSide)).toEqual(expect.arrayContaining(['users', 'sessions', 'rate_limits']));
  });

  it('when both are migrated from scratch, then every table has the same columns (type, null, key, default)', () => {
    for (const table of Object.keys(sqliteSide)) {
      expect({ table, columns: pgSide[table]?.columns }).toEqual({ table, columns: sqliteSide[table]!.columns });
    }
    expect(Object.keys(sqliteSide.users!.columns)).toContain('password_hash');
  });

  it('when both are migrated from scratch, then every table has the same indexes, on the same columns and expressions', () => {
    for (const table of Object.keys(sqliteSide)) {
      expect({ table, indexes: pgSide[table]?.indexes }).toEqual({ table, indexes: sqliteSide[table]!.indexes });
    }
    expect(sqliteSide.users!.indexes.users_email_ci).toEqual({ unique: true, on: 'lower(email)' });
  });

  it('when both are migrated from scratch, then every table has the same foreign keys, with the same delete action', () => {
    for (const table of Object.keys(sqliteSide)) {
      expect({ table, foreignKeys: pgSide[table]?.foreignKeys }).toEqual({ table, foreignKeys: sqliteSide[table]!.foreignKeys });
    }
    expect(sqliteSide.shares?.foreignKeys.owner_id).toBe('users.id on delete cascade');
  });
});
