// What Spawner asks of its database, as small async interfaces returning plain objects. Routes,
// services and the lifecycle speak only to these; each dialect implements them in its own folder
// (src/db/sqlite/ today, PostgreSQL next), so nothing outside src/db/ knows which one runs.
import type session from 'express-session';
import type { Store as RateLimitCounterStore } from 'express-rate-limit';

/** A person's account as stored. */
export interface User {
  id: number;
  username: string;
  email: string;
  passwordHash: string;
  /** The last container id and name Docker reported for the person (Docker stays the truth). */
  containerId: string | null;
  containerName: string | null;
  createdAt: Date;
  lastActivity: Date | null;
  /** Who reaches the person's service besides the people it is shared with. */
  serviceAccess: ServiceAccess;
  isAdmin: boolean;
  /** Bumped to end every access cookie the person holds (logout, password change). */
  accessEpoch: number;
  /** Bumped to end every access cookie for the person's service (a share ended). */
  serviceEpoch: number;
  /** The catalogue template the person chose; null: the catalogue's default. */
  template: string | null;
  /** The admin's restriction (template names); null: the catalogue's own rule (allowed:). */
  allowedTemplates: string[] | null;
  /** Cannot log in, gets no container. */
  disabled: boolean;
  /** 'pending' until an admin approves the signup. */
  approval: Approval;
  /** An admin's per-person limits; null = the defaults. */
  quotaMemoryBytes: number | null;
  quotaCpuQuota: number | null;
  quotaPidsLimit: number | null;
}

export type Approval = 'approved' | 'pending';

/** An admin's per-person limits; null (or absent) = the global default. */
export interface Quota {
  memoryBytes: number | null;
  cpuQuota: number | null;
  pidsLimit: number | null;
}

/** One page of the admin console's table of people, chosen and ordered by the database. */
export interface UserPageQuery {
  /** Part of the name (case-insensitive). */
  nameContains?: string;
  /** Only these ids (the running ones); an empty list gives an empty page. */
  onlyIds?: number[];
  approval?: Approval;
  sort: 'name' | 'activity';
  /** 'activity' sorts the most recent first; 'name' A–Z. */
  offset: number;
  limit: number;
}

export interface UserPage {
  items: User[];
  total: number;
}

export type ServiceAccess = 'owner' | 'public';

export interface NewUser {
  username: string;
  email: string;
  passwordHash: string;
  /** The store's default ('owner') when absent. */
  serviceAccess?: ServiceAccess;
  /** A name checked against the catalogue; null/absent: the catalogue's default. */
  template?: string | null;
  isAdmin?: boolean;
  approval?: Approval;
}

/** A container id and name to remember for a person; both null when it was removed. */
export interface ContainerRecord {
  id: string | null;
  name: string | null;
}

export interface UserStore {
  findById(id: number): Promise<User | undefined>;
  /** The accounts among these ids (the idle sweep's: only people who have a workload). */
  findByIds(ids: number[]): Promise<User[]>;
  /** Case-insensitive. */
  findByUsername(username: string): Promise<User | undefined>;
  /** Case-insensitive. */
  findByEmail(email: string): Promise<User | undefined>;
  /** Looks a person up by the name or the e-mail address they typed at login. */
  findByLogin(login: string): Promise<User | undefined>;
  /** Throws DuplicateUserError when the name or address is taken (whatever the case). */
  create(input: NewUser): Promise<User>;
  setContainer(id: number, container: ContainerRecord): Promise<void>;
  /** Many people's last activity at once, in one transaction (the idle sweep's one write). */
  recordActivity(batch: { id: number; at: Date }[]): Promise<void>;
  /** Many people's container records at once, in one transaction (reconcile's one write). */
  correctContainers(updates: { id: number; container: ContainerRecord }[]): Promise<void>;
  delete(id: number): Promise<void>;
  setServiceAccess(id: number, access: ServiceAccess): Promise<void>;
  /** A name already checked against the catalogue and the person's rights. */
  setTemplate(id: number, template: string): Promise<void>;
  /** The admin's restriction; null lifts it. */
  setAllowedTemplates(id: number, names: string[] | null): Promise<void>;
  /** Adds one to the person's access epoch; resolves to the new value. */
  bumpAccessEpoch(id: number): Promise<number>;
  /** Adds one to the epoch of the person's service; resolves to the new value. */
  bumpServiceEpoch(id: number): Promise<number>;
  all(): Promise<User[]>;
  count(): Promise<number>;
  setAdmin(id: number, admin: boolean): Promise<void>;
  /** Makes these names admins (ADMIN_USERS at start); resolves to the ids it changed. */
  promoteAdmins(usernames: readonly string[]): Promise<number[]>;
  setDisabled(id: number, disabled: boolean): Promise<void>;
  setApproval(id: number, approval: Approval): Promise<void>;
  setQuota(id: number, quota: Quota): Promise<void>;
  setPasswordHash(id: number, hash: string): Promise<void>;
  /** The admin table: filtered, sorted and cut in SQL (indexes on name and last activity). */
  page(query: UserPageQuery): Promise<UserPage>;
  countPending(): Promise<number>;
}

/** One line of the audit log. */
export interface AuditEntry {
  at: Date;
  actor: { kind: 'person' | 'admin' | 'token' | 'system'; name: string };
  action: string;
  target?: string | null;
  client?: string | null;
  result: 'ok' | 'refused' | 'failed';
  details?: Record<string, unknown>;
}

export interface StoredAuditEntry extends AuditEntry {
  id: number;
  target: string | null;
  client: string | null;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  /** Actor or target. */
  person?: string;
  action?: string;
  from?: Date;
  to?: Date;
  offset: number;
  limit: number;
}

/** Append-only: nothing updates a row; only the retention prune deletes. */
export interface AuditStore {
  append(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  query(query: AuditQuery): Promise<{ items: StoredAuditEntry[]; total: number }>;
  /** Deletes rows older than `before`; resolves to how many went. */
  pruneBefore(before: Date): Promise<number>;
}

export interface Invitation {
  id: number;
  email: string | null;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  usedBy: string | null;
}

export interface InvitationStore {
  create(input: { tokenHash: string; email: string | null; createdBy: string; expiresAt: Date }): Promise<Invitation>;
  findByHash(tokenHash: string): Promise<Invitation | undefined>;
  /** Marks it used when it is unused and unexpired at `now`; false when another use won. */
  consume(tokenHash: string, usedBy: string, now: Date): Promise<boolean>;
  recent(limit: number): Promise<Invitation[]>;
}

/** Who a person's service is shared with (owner → people); rows go with either account. */
export interface ShareStore {
  /** False when the pair was shared already. */
  add(ownerId: number, userId: number): Promise<boolean>;
  /** False when there was no such share. */
  remove(ownerId: number, userId: number): Promise<boolean>;
  all(): Promise<{ ownerId: number; userId: number }[]>;
}

/** A second account with a name or address already taken: the unique index decided a race. */
export class DuplicateUserError extends Error {
  constructor(
    readonly field: 'username' | 'email',
    options?: { cause?: unknown },
  ) {
    super(`a user with this ${field} exists already`, options);
    this.name = 'DuplicateUserError';
  }
}

/** The database cannot be opened at start-up; the message is one line an operator can act on. */
export class DatabaseOpenError extends Error {
  constructor(where: string, reason: string) {
    // One line: server.ts prints it as the only thing on stderr before exiting.
    super(`Cannot open the database at ${where}: ${reason}`.replace(/\s*\n\s*/g, '; '));
    this.name = 'DatabaseOpenError';
  }
}

/** express-session's store (callback based, as express-session wants it), with its purge. */
export type SessionStore = session.Store & {
  /** Deletes expired sessions; resolves to how many went. */
  purgeExpired(): Promise<number>;
};

/** The counters of the abuse limits (failed logins, signups), so they survive a restart. */
export interface RateLimitStore {
  /** express-rate-limit's Store for one limiter; the prefix keeps the limiters' counters apart. */
  storeFor(prefix: string): RateLimitCounterStore;
  /** Deletes counters whose window has ended; resolves to how many went. */
  purgeExpired(): Promise<number>;
}

/** What /health asks of the database. */
export interface DatabaseHealth {
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
}

/** Every store on one database, opened together and closed together. */
export interface Stores {
  users: UserStore;
  shares: ShareStore;
  sessions: SessionStore;
  rateLimits: RateLimitStore;
  audit: AuditStore;
  invitations: InvitationStore;
  health: DatabaseHealth;
  /** False once close() was called (work still in flight then fails, and that is expected). */
  isOpen(): boolean;
  /** Stops the stores' purge timers and closes the connection(s). */
  close(): Promise<void>;
}
