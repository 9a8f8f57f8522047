// The access check's whole state, in memory: for each service (by name) its owner, visibility,
// the people it is shared with and its epoch; for each person their admin flag and epoch. Loaded
// from the stores at start and kept current by the service functions that change them
// (services/access.ts), so checking a request never touches the database. Kept in this one small
// module so that several replicas can later share or invalidate it in one place (reload()).
import type { ServiceAccess, User } from '../db/stores.js';

export interface ServiceEntry {
  ownerId: number;
  visibility: ServiceAccess;
  sharedWith: Set<number>;
  epoch: number;
}

export interface PersonEntry {
  name: string;
  admin: boolean;
  epoch: number;
}

/** 'allow': in; 'login': nobody (valid) is known, so log in first; 'forbidden': known, not allowed. */
export type Reach = 'allow' | 'login' | 'forbidden';

type AccessFields = Pick<User, 'id' | 'username' | 'serviceAccess' | 'isAdmin' | 'accessEpoch' | 'serviceEpoch'>;

export class AccessTable {
  private services = new Map<string, ServiceEntry>();
  private people = new Map<number, PersonEntry>();

  constructor(private readonly options: { adminsReachServices: boolean }) {}

  /** Replaces everything at once (start-up, and a later reload). */
  replaceAll(users: readonly AccessFields[], shares: readonly { ownerId: number; userId: number }[]): void {
    const services = new Map<string, ServiceEntry>();
    const people = new Map<number, PersonEntry>();
    const nameOf = new Map<number, string>();
    for (const u of users) {
      people.set(u.id, { name: u.username, admin: u.isAdmin, epoch: u.accessEpoch });
      services.set(u.username, { ownerId: u.id, visibility: u.serviceAccess, sharedWith: new Set(), epoch: u.serviceEpoch });
      nameOf.set(u.id, u.username);
    }
    for (const s of shares) {
      const name = nameOf.get(s.ownerId);
      if (name) services.get(name)?.sharedWith.add(s.userId);
    }
    this.services = services;
    this.people = people;
  }

  put(user: AccessFields): void {
    this.people.set(user.id, { name: user.username, admin: user.isAdmin, epoch: user.accessEpoch });
    this.services.set(user.username, {
      ownerId: user.id,
      visibility: user.serviceAccess,
      sharedWith: this.services.get(user.username)?.sharedWith ?? new Set(),
      epoch: user.serviceEpoch,
    });
  }

  /** An account is gone: its service, and every share with it. */
  remove(userId: number): void {
    const person = this.people.get(userId);
    this.people.delete(userId);
    if (person && this.services.get(person.name)?.ownerId === userId) this.services.delete(person.name);
    for (const service of this.services.values()) service.sharedWith.delete(userId);
  }

  service(name: string): Readonly<ServiceEntry> | undefined {
    return this.services.get(name);
  }

  person(id: number): Readonly<PersonEntry> | undefined {
    return this.people.get(id);
  }

  /** Whether `userId` (null: nobody logged in) may reach the service called `name`. */
  reach(name: string, userId: number | null): Reach {
    const service = this.services.get(name);
    if (service?.visibility === 'public') return 'allow';
    if (userId === null) return 'login';
    const person = this.people.get(userId);
    if (!person) return 'login';
    if (!service) return 'forbidden';
    if (service.ownerId === userId || service.sharedWith.has(userId)) return 'allow';
    return person.admin && this.options.adminsReachServices ? 'allow' : 'forbidden';
  }

  setVisibility(ownerId: number, visibility: ServiceAccess): void {
    const service = this.ownedBy(ownerId);
    if (service) service.visibility = visibility;
  }

  share(ownerId: number, userId: number): void {
    this.ownedBy(ownerId)?.sharedWith.add(userId);
  }

  unshare(ownerId: number, userId: number, serviceEpoch: number): void {
    const service = this.ownedBy(ownerId);
    if (!service) return;
    service.sharedWith.delete(userId);
    service.epoch = serviceEpoch;
  }

  setPersonEpoch(userId: number, epoch: number): void {
    const person = this.people.get(userId);
    if (person) person.epoch = epoch;
  }

  /** For the admin console, which owns the flag. */
  setAdmin(userId: number, admin: boolean): void {
    const person = this.people.get(userId);
    if (person) person.admin = admin;
  }

  private ownedBy(ownerId: number): ServiceEntry | undefined {
    const name = this.people.get(ownerId)?.name;
    const service = name === undefined ? undefined : this.services.get(name);
    return service?.ownerId === ownerId ? service : undefined;
  }
}
