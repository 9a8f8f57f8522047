// The operator's console settings (issue 12): who is an admin from the environment, who may sign
// up, how many accounts and containers the server takes, and how long the audit log is kept.
// config.ts spreads `consoleFields` into its schema and calls `consoleConfig` with the result.
import { z } from 'zod';
import { int, list } from './fields.js';

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;
const EMAIL_DOMAIN_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

export type SignupMode = 'open' | 'approval' | 'invite' | 'closed';

export const consoleFields = {
  ADMIN_USERS: list(NAME_RE, 'a comma-separated list of usernames such as alice,bob'),
  SIGNUP_MODE: z.enum(['open', 'approval', 'invite', 'closed']).default('open'),
  SIGNUP_EMAIL_DOMAINS: list(EMAIL_DOMAIN_RE, 'a comma-separated list of lowercase e-mail domains such as example.com'),
  /** 0: no limit. */
  MAX_USERS: int(0, 0, 10_000_000),
  MAX_RUNNING_CONTAINERS: int(0, 0, 10_000_000),
  CONCURRENT_SPAWN_LIMIT: int(0, 0, 100_000),
  /** 0: kept for ever. */
  AUDIT_RETENTION_DAYS: int(365, 0, 100_000),
};

type Parsed = { [K in keyof typeof consoleFields]: z.output<(typeof consoleFields)[K]> };

export interface ConsoleConfig {
  /** Lowercase usernames made admins at signup and at every start. */
  adminUsers: readonly string[];
  signupMode: SignupMode;
  /** Lowercase; empty means any domain. */
  signupEmailDomains: readonly string[];
  /** 0 = unlimited, for each of the three. */
  maxUsers: number;
  maxRunningContainers: number;
  concurrentSpawnLimit: number;
  /** 0 = never pruned. */
  auditRetentionDays: number;
}

export function consoleConfig(e: Parsed): ConsoleConfig {
  return {
    adminUsers: e.ADMIN_USERS.map((n) => n.toLowerCase()),
    signupMode: e.SIGNUP_MODE,
    signupEmailDomains: e.SIGNUP_EMAIL_DOMAINS.map((d) => d.toLowerCase()),
    maxUsers: e.MAX_USERS,
    maxRunningContainers: e.MAX_RUNNING_CONTAINERS,
    concurrentSpawnLimit: e.CONCURRENT_SPAWN_LIMIT,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
  };
}
