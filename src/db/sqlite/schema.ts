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
  },
  (t) => [
    // Usernames are stored lowercase already; the lower() index makes the rule explicit and
    // holds for e-mail addresses, which keep the case the person typed.
    uniqueIndex('users_username_ci').on(sql`lower(${t.username})`),
    uniqueIndex('users_email_ci').on(sql`lower(${t.email})`),
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

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
