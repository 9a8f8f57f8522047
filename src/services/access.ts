// Who may reach a person's service, as verbs: make it public or owner-only, share it with a named
// person or stop sharing, end every access cookie a person holds (logout, password change), and
// the check itself. Each verb writes the store and then the in-memory access table
// (access/table.ts), which is all the hot path reads; issuing the one-time codes of the authorize
// redirect lives here too.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { ServiceAccess, ShareStore, User, UserStore } from '../db/stores.js';
import { ValidationError } from '../errors.js';
import { accessKeyFrom } from '../access/cookie.js';
import { OneTimeCodes } from '../access/codes.js';
import { decide, type GateRequest, type Verdict } from '../access/gate.js';
import { AccessTable, type Reach } from '../access/table.js';

export interface AccessView {
  visibility: ServiceAccess;
  /** Names, sorted. */
  sharedWith: string[];
}

type Person = { id: number; username: string };

export class AccessService {
  readonly table: AccessTable;
  private readonly codes = new OneTimeCodes();
  private readonly key: Buffer;
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly stores: { users: UserStore; shares: ShareStore },
    private readonly config: Pick<Config, 'routingMode' | 'baseDomain' | 'basePath' | 'spawnerHost' | 'publicScheme' | 'access'>,
    private readonly reserved: readonly string[],
    secret: string,
    private readonly logger: Logger,
  ) {
    this.table = new AccessTable({ adminsReachServices: config.access.adminsReachServices });
    this.key = accessKeyFrom(secret);
  }

  /** Resolves once the table holds the stores' state (loaded on first call; reload() reads again). */
  ready(): Promise<void> {
    this.loaded ??= this.reload().catch((error: unknown) => {
      this.loaded = undefined; // the next request tries again
      throw error;
    });
    return this.loaded;
  }

  async reload(): Promise<void> {
    const [users, shares] = await Promise.all([this.stores.users.all(), this.stores.shares.all()]);
    this.table.replaceAll(users, shares);
    this.logger.debug({ services: users.length, shares: shares.length }, 'access table loaded');
  }

  /** The verdict for one request to a person's service (no database I/O). */
  check(request: GateRequest): Verdict {
    return decide({ config: this.config, reserved: this.reserved, table: this.table, codes: this.codes, key: this.key }, request);
  }

  reach(name: string, userId: number): Reach {
    return this.table.reach(name, userId);
  }

  /** A one-time code for the callback of `name`'s service, for a person allowed in. */
  issueCode(userId: number, name: string): string {
    return this.codes.issue(userId, name);
  }

  /** A new account joins the table (its row carries the default visibility). */
  register(user: User): void {
    this.table.put(user);
  }

  async setVisibility(owner: Person, visibility: ServiceAccess): Promise<void> {
    await this.stores.users.setServiceAccess(owner.id, visibility);
    this.table.setVisibility(owner.id, visibility);
    this.logger.info({ userId: owner.id, visibility }, 'service visibility changed');
  }

  async share(owner: Person, withName: string): Promise<void> {
    const other = await this.otherPerson(owner, withName);
    await this.stores.shares.add(owner.id, other.id);
    this.table.share(owner.id, other.id);
    this.logger.info({ userId: owner.id, with: other.id }, 'service shared');
  }

  /** Ends the share and, with the service's epoch, every access cookie already given for it. */
  async unshare(owner: Person, withName: string): Promise<void> {
    const other = await this.otherPerson(owner, withName);
    await this.stores.shares.remove(owner.id, other.id);
    const epoch = await this.stores.users.bumpServiceEpoch(owner.id);
    this.table.unshare(owner.id, other.id, epoch);
    this.logger.info({ userId: owner.id, with: other.id }, 'service no longer shared');
  }

  /** Every access cookie the person holds stops working (logout, password change). */
  async endAccess(userId: number): Promise<void> {
    const epoch = await this.stores.users.bumpAccessEpoch(userId);
    this.table.setPersonEpoch(userId, epoch);
  }

  /** The account is deleted (its shares go with the row). */
  forget(userId: number): void {
    this.table.remove(userId);
  }

  describe(owner: Person): AccessView {
    const service = this.table.service(owner.username);
    const sharedWith = [...(service?.sharedWith ?? [])]
      .map((id) => this.table.person(id)?.name)
      .filter((n): n is string => n !== undefined)
      .sort();
    return { visibility: service?.visibility ?? this.config.access.defaultVisibility, sharedWith };
  }

  private async otherPerson(owner: Person, withName: string): Promise<User> {
    const name = withName.trim().toLowerCase();
    if (name === '') throw new ValidationError({ share: 'Type the username of the person to share with.' });
    if (name === owner.username) throw new ValidationError({ share: 'That is you: you always reach your own service.' });
    const other = name.length <= 64 ? await this.stores.users.findByUsername(name) : undefined;
    if (!other) throw new ValidationError({ share: `There is nobody called ${name.slice(0, 64)} here.` });
    return other;
  }
}
