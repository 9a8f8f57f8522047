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
  health: DatabaseHealth;
  /** False once close() was called (work still in flight then fails, and that is expected). */
  isOpen(): boolean;
  /** Stops the stores' purge timers and closes the connection(s). */
  close(): Promise<void>;
}
