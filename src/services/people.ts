// What an operator does to accounts, as verbs shared by the command line (src/cli/) and /admin:
// add a person, make or unmake an admin, disable or enable, approve or reject a signup, set a
// quota, delete. Each verb writes the store, tells the access table and the container manager,
// and leaves one audit row (its actor said by the caller).
import { randomBytes } from 'node:crypto';
import type { AccountService } from '../auth/accounts.js';
import type { ContainerManager } from '../containers/manager.js';
import type { Quota, User, UserStore } from '../db/stores.js';
import { NotFound, ValidationError } from '../errors.js';
import type { AuditActor, AuditLog } from '../audit/log.js';

export interface PeopleDeps {
  users: UserStore;
  accounts: Pick<AccountService, 'signUp'>;
  containers: Pick<ContainerManager, 'stop' | 'retire' | 'ensureRunning' | 'restart'>;
  /** Ends every access cookie of the person (access.endAccess). */
  endAccess(userId: number): Promise<void>;
  /** The access table forgets a deleted account; a no-op in the CLI (the server reads the row). */
  forget(userId: number): void;
  audit: Pick<AuditLog, 'record'>;
}

/** Who acts, and from where (the client address of a web request; none for the CLI). */
export interface Acting {
  actor: AuditActor;
  client?: string | undefined;
}

export class PeopleService {
  constructor(private readonly deps: PeopleDeps) {}

  async find(name: string): Promise<User> {
    const user = name.length <= 64 ? await this.deps.users.findByUsername(name.trim().toLowerCase()) : undefined;
    if (!user) throw new NotFound(`no account ${name}`, { publicMessage: `There is no account called ${name.slice(0, 64)}.` });
    return user;
  }

  /** Adds an account by hand; without a password one is generated and returned (shown once). */
  async create(
    input: { username: string; email: string; password?: string | undefined; admin?: boolean },
    acting: Acting,
  ): Promise<{ user: User; generatedPassword?: string }> {
    const generated = input.password === undefined ? randomBytes(18).toString('base64url') : undefined;
    try {
      const user = await this.deps.accounts.signUp(
        { username: input.username.trim().toLowerCase(), email: input.email.trim(), password: input.password ?? generated! },
        { isAdmin: input.admin === true, approval: 'approved' },
      );
      await this.audit(acting, 'user.create', user.username, 'ok', { admin: user.isAdmin });
      return { user, ...(generated ? { generatedPassword: generated } : {}) };
    } catch (error) {
      if (error instanceof ValidationError) await this.audit(acting, 'user.create', input.username.slice(0, 64), 'refused', error.fields);
      throw error;
    }
  }

  async setAdmin(name: string, admin: boolean, acting: Acting): Promise<User> {
    const user = await this.find(name);
    await this.deps.users.setAdmin(user.id, admin);
    await this.audit(acting, 'user.set-admin', user.username, 'ok', { admin });
    return { ...user, isAdmin: admin };
  }

  /**
   * Disabling ends the person's sessions (deserialize refuses a disabled account) and access
   * cookies, and stops their container; its data stays. Enabling lets them log in again.
   */
  async setDisabled(name: string, disabled: boolean, acting: Acting): Promise<User> {
    const user = await this.find(name);
    await this.deps.users.setDisabled(user.id, disabled);
    let stopError: string | undefined;
    if (disabled) {
      await this.deps.endAccess(user.id);
      try {
        await this.deps.containers.stop(user, 'admin');
      } catch (error) {
        stopError = error instanceof Error ? error.message : String(error);
      }
    }
    await this.audit(acting, disabled ? 'user.disable' : 'user.enable', user.username, stopError ? 'failed' : 'ok', {
      ...(stopError ? { error: `container not stopped: ${stopError}` } : {}),
    });
    if (stopError) throw new ContainerStopFailed(user.username, stopError);
    return { ...user, disabled };
  }

  async setQuota(name: string, quota: Quota, acting: Acting): Promise<User> {
    const user = await this.find(name);
    await this.deps.users.setQuota(user.id, quota);
    await this.audit(acting, 'user.set-quota', user.username, 'ok', { ...quota });
    return { ...user, quotaMemoryBytes: quota.memoryBytes, quotaCpuQuota: quota.cpuQuota, quotaPidsLimit: quota.pidsLimit };
  }

  async approve(name: string, acting: Acting): Promise<User> {
    const user = await this.find(name);
    await this.deps.users.setApproval(user.id, 'approved');
    await this.audit(acting, 'signup.approve', user.username, 'ok');
    return { ...user, approval: 'approved' };
  }

  /** A rejected signup is removed (its name and address become free again); it never had a container. */
  async reject(name: string, acting: Acting): Promise<void> {
    const user = await this.find(name);
    if (user.approval !== 'pending') throw new ValidationError({ user: `${user.username} is not waiting for approval.` });
    await this.deps.users.delete(user.id);
    this.deps.forget(user.id);
    await this.audit(acting, 'signup.reject', user.username, 'ok');
  }

  /** The container and its data volume go first (retire), then the account. */
  async delete(name: string, acting: Acting): Promise<void> {
    const user = await this.find(name);
    await this.deps.containers.retire(user);
    await this.deps.users.delete(user.id);
    this.deps.forget(user.id);
    await this.audit(acting, 'user.delete', user.username, 'ok', { withData: true });
  }

  /** An admin starts, stops or restarts someone's container: one row, 'failed' with the error when Docker fails (which is rethrown). */
  async container(name: string, verb: 'start' | 'stop' | 'restart', acting: Acting): Promise<User> {
    const user = await this.find(name);
    try {
      if (verb === 'start') await this.deps.containers.ensureRunning(user, 'admin');
      else if (verb === 'stop') await this.deps.containers.stop(user, 'admin');
      else await this.deps.containers.restart(user, 'admin');
    } catch (error) {
      await this.audit(acting, `container.${verb}`, user.username, 'failed', {
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
    await this.audit(acting, `container.${verb}`, user.username, 'ok');
    return user;
  }

  /** One row for an action this service does not perform itself (an admin's container start). */
  record(acting: Acting, action: string, target: string, result: 'ok' | 'refused' | 'failed', details: Record<string, unknown> = {}) {
    return this.audit(acting, action, target, result, details);
  }

  private audit(
    acting: Acting,
    action: string,
    target: string,
    result: 'ok' | 'refused' | 'failed',
    details: Record<string, unknown> = {},
  ) {
    return this.deps.audit.record({ actor: acting.actor, client: acting.client ?? null, action, target, result, details });
  }
}

/** The account changed, but Docker could not stop the container. */
export class ContainerStopFailed extends Error {
  constructor(name: string, reason: string) {
    super(`${name} is disabled, but the container could not be stopped: ${reason}`);
    this.name = 'ContainerStopFailed';
  }
}

/** ADMIN_USERS at every start: the listed accounts that exist become admins (one audit row each). */
export async function applyAdminUsers(
  users: Pick<UserStore, 'promoteAdmins' | 'findById'>,
  audit: Pick<AuditLog, 'record'>,
  names: readonly string[],
): Promise<number> {
  const promoted = await users.promoteAdmins(names);
  for (const id of promoted) {
    const user = await users.findById(id);
    await audit.record({
      actor: { kind: 'system', name: 'config' },
      action: 'user.set-admin',
      target: user?.username ?? String(id),
      result: 'ok',
      details: { admin: true, from: 'ADMIN_USERS' },
    });
  }
  return promoted.length;
}
