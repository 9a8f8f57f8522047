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
    /** A disabled person cannot log in and gets no container (admin console, CLI). */
    disabled: boolean('disabled').notNull().default(false),
    /** 'pending' until an admin approves the signup (SIGNUP_MODE=approval). */
    approval: text('approval', { enum: ['approved', 'pending'] })
      .notNull()
      .default('approved'),
    /** An admin's per-person limits; null = the defaults. */
    quotaMemoryBytes: bigint('quota_memory_bytes', { mode: 'number' }),
    quotaCpuQuota: integer('quota_cpu_quota'),
    quotaPidsLimit: integer('quota_pids_limit'),
  },
  (t) => [
    // As on SQLite: one account per name and per address, whatever the case.
    uniqueIndex('users_username_ci').on(sql`lower(${t.username})`),
    uniqueIndex('users_email_ci').on(sql`lower(${t.email})`),
    // The admin console sorts and filters in SQL: by last activity, and the pending list.
    index('users_last_activity').on(t.lastActivity),
    index('users_approval').on(t.approval),
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

/**
 * The audit log: append-only (the store has no update or delete but the retention prune).
 * `details` is a JSON object as text, the same on both dialects.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: serial('id').primaryKey(),
    at: instant('at').notNull().defaultNow(),
    /** 'person' | 'admin' | 'token' | 'system'. */
    actorKind: text('actor_kind').notNull(),
    actorName: text('actor_name').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    client: text('client'),
    /** 'ok' | 'refused' | 'failed'. */
    result: text('result').notNull(),
    details: text('details').notNull().default('{}'),
  },
  (t) => [
    index('audit_log_at').on(t.at),
    index('audit_log_action_at').on(t.action, t.at),
    index('audit_log_target_at').on(t.target, t.at),
    index('audit_log_actor_at').on(t.actorName, t.at),
  ],
);

/** Single-use signup links; only the sha256 of the token is kept. */
export const invitations = pgTable(
  'invitations',
  {
    id: serial('id').primaryKey(),
    tokenHash: text('token_hash').notNull(),
    /** When set, only this address may sign up with it. */
    email: text('email'),
    createdBy: text('created_by').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    expiresAt: instant('expires_at').notNull(),
    usedAt: instant('used_at'),
    usedBy: text('used_by'),
  },
  (t) => [uniqueIndex('invitations_token_hash').on(t.tokenHash), index('invitations_created_at').on(t.createdAt)],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
