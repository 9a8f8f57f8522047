// The database schema, in Drizzle's terms. Migrations in drizzle/ are generated from this file
// (`npm run db:generate`) and applied at start-up.
import { sql } from 'drizzle-orm';
import { integer, sqliteTable, text, uniqueIndex, index } from 'drizzle-orm/sqlite-core';

export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    username: text('username').notNull(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    containerId: text('container_id'),
    containerName: text('container_name'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' })
      .notNull()
      .default(sql`(unixepoch('subsec') * 1000)`),
    lastActivity: integer('last_activity', { mode: 'timestamp_ms' }),
    /** Who reaches the person's service besides the people it is shared with: 'owner' or 'public'. */
    serviceAccess: text('service_access', { enum: ['owner', 'public'] })
      .notNull()
      .default('owner'),
    /** Managed by the admin console; the access check only reads it. */
    isAdmin: integer('is_admin', { mode: 'boolean' }).notNull().default(false),
    /** Bumped at logout and password change: every access cookie the person holds dies. */
    accessEpoch: integer('access_epoch').notNull().default(0),
    /** Bumped when a share of the person's service ends: every cookie for that service dies. */
    serviceEpoch: integer('service_epoch').notNull().default(0),
    /** The catalogue template the person chose; null: the catalogue's default. */
    template: text('template'),
    /** The admin's restriction of the templates the person may use (names); null: the catalogue's own rule. */
    allowedTemplates: text('allowed_templates', { mode: 'json' }).$type<string[]>(),
    /** A disabled person cannot log in and gets no container (admin console, CLI). */
    disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
    /** 'pending' until an admin approves the signup (SIGNUP_MODE=approval). */
    approval: text('approval', { enum: ['approved', 'pending'] })
      .notNull()
      .default('approved'),
    /** An admin's per-person limits; null = the defaults. */
    quotaMemoryBytes: integer('quota_memory_bytes'),
    quotaCpuQuota: integer('quota_cpu_quota'),
    quotaPidsLimit: integer('quota_pids_limit'),
  },
  (t) => [
    // Usernames are stored lowercase already; the lower() index makes the rule explicit and
    // holds for e-mail addresses, which keep the case the person typed.
    uniqueIndex('users_username_ci').on(sql`lower(${t.username})`),
    uniqueIndex('users_email_ci').on(sql`lower(${t.email})`),
    // The admin console sorts and filters in SQL: by last activity, and the pending list.
    index('users_last_activity').on(t.lastActivity),
    index('users_approval').on(t.approval),
  ],
);

export const sessions = sqliteTable(
  'sessions',
  {
    sid: text('sid').primaryKey(),
    data: text('data').notNull(),
    /** Epoch milliseconds after which the session is void. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_expires_at').on(t.expiresAt)],
);

/** Counters of the abuse limits (failed logins, signups), so they survive a restart. */
export const rateLimits = sqliteTable(
  'rate_limits',
  {
    /** The limiter's prefix and the client's key, e.g. `login-ip:203.0.113.7`. */
    key: text('key').primaryKey(),
    hits: integer('hits').notNull(),
    /** Epoch milliseconds at which the window ends and the counter starts again. */
    resetAt: integer('reset_at').notNull(),
  },
  (t) => [index('rate_limits_reset_at').on(t.resetAt)],
);

/** Who else a person's service is shared with; gone with either account. */
export const shares = sqliteTable(
  'shares',
  {
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' })
      .notNull()
      .default(sql`(unixepoch('subsec') * 1000)`),
  },
  (t) => [uniqueIndex('shares_owner_user').on(t.ownerId, t.userId), index('shares_user').on(t.userId)],
);

/**
 * The audit log: append-only (the store has no update or delete but the retention prune).
 * `details` is a JSON object as text, the same on both dialects.
 */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at', { mode: 'timestamp_ms' })
      .notNull()
      .default(sql`(unixepoch('subsec') * 1000)`),
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
export const invitations = sqliteTable(
  'invitations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tokenHash: text('token_hash').notNull(),
    /** When set, only this address may sign up with it. */
    email: text('email'),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' })
      .notNull()
      .default(sql`(unixepoch('subsec') * 1000)`),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    usedAt: integer('used_at', { mode: 'timestamp_ms' }),
    usedBy: text('used_by'),
  },
  (t) => [uniqueIndex('invitations_token_hash').on(t.tokenHash), index('invitations_created_at').on(t.createdAt)],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
