// The database schema on PostgreSQL, in Drizzle's terms: the same tables, columns and indexes as
// src/db/sqlite/schema.ts (Drizzle has no dialect-neutral schema), with the same JS row types.
// Migrations in drizzle-pg/ are generated from this file (`npm run db:generate`) and applied at
// start-up; test/postgres/schemaParity.test.ts fails when the two schemas drift apart.
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** A point in time, as a Date in JS; `timestamptz` so the server's time zone never matters. */
const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

/** Epoch milliseconds, as a number in JS (they outgrow `integer`; a JS number holds them exactly). */
const epochMs = (name: string) => bigint(name, { mode: 'number' });

export const users = pgTable(
  'users',
  {
    id: serial('id').primaryKey(),
    username: text('username').notNull(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    containerId: text('container_id'),
    containerName: text('container_name'),
    createdAt: instant('created_at').notNull().defaultNow(),
    lastActivity: instant('last_activity'),
    /** Who reaches the person's service besides the people it is shared with: 'owner' or 'public'. */
    serviceAccess: text('service_access', { enum: ['owner', 'public'] })
      .notNull()
      .default('owner'),
    /** Managed by the admin console; the access check only reads it. */
    isAdmin: boolean('is_admin').notNull().default(false),
    /** Bumped at logout and password change: every access cookie the person holds dies. */
    accessEpoch: integer('access_epoch').notNull().default(0),
    /** Bumped when a share of the person's service ends: every cookie for that service dies. */
    serviceEpoch: integer('service_epoch').notNull().default(0),
    /** The catalogue template the person chose; null: the catalogue's default. */
    template: text('template'),
    /** The admin's restriction of the templates the person may use (names); null: the catalogue's own rule. */
    allowedTemplates: jsonb('allowed_templates').$type<string[]>(),
  },
  (t) => [
    // As on SQLite: one account per name and per address, whatever the case.
    uniqueIndex('users_username_ci').on(sql`lower(${t.username})`),
    uniqueIndex('users_email_ci').on(sql`lower(${t.email})`),
  ],
);

export const sessions = pgTable(
  'sessions',
  {
    sid: text('sid').primaryKey(),
    data: text('data').notNull(),
    /** Epoch milliseconds after which the session is void. */
    expiresAt: epochMs('expires_at').notNull(),
  },
  (t) => [index('sessions_expires_at').on(t.expiresAt)],
);

/** Counters of the abuse limits (failed logins, signups), so they survive a restart. */
export const rateLimits = pgTable(
  'rate_limits',
  {
    /** The limiter's prefix and the client's key, e.g. `login-ip:203.0.113.7`. */
    key: text('key').primaryKey(),
    hits: integer('hits').notNull(),
    /** Epoch milliseconds at which the window ends and the counter starts again. */
    resetAt: epochMs('reset_at').notNull(),
  },
  (t) => [index('rate_limits_reset_at').on(t.resetAt)],
);

/** Who else a person's service is shared with; gone with either account. */
export const shares = pgTable(
  'shares',
  {
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('shares_owner_user').on(t.ownerId, t.userId), index('shares_user').on(t.userId)],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
