// Deleting one's own account, as one verb: the password proves it is the person (not a script on
// a page they opened), then the container and its data go for good, then the account row. The
// container goes first: if Docker fails, the account stays and the person can try again. Last,
// the access table forgets the account, so its access cookies are worthless.
import type { AccountService } from '../auth/accounts.js';
import type { ContainerManager } from '../containers/manager.js';
import type { Person } from '../containers/naming.js';
import type { UserStore } from '../db/stores.js';
import { Forbidden } from '../errors.js';
import type { Logger } from '../logger.js';

export class AccountDeletion {
  constructor(
    private readonly accounts: Pick<AccountService, 'verify'>,
    private readonly containers: Pick<ContainerManager, 'retire'>,
    private readonly users: Pick<UserStore, 'delete'>,
    /** The access table: the name's service is nobody's any more, at once. */
    private readonly access: { forget(userId: number): void },
    private readonly logger: Logger,
  ) {}

  /** Throws Forbidden (403) and deletes nothing when the password is not the person's. */
  async deleteAccount(person: Person, password: string): Promise<void> {
    const verified = await this.accounts.verify(person.username, password);
    if (!verified || verified.id !== person.id) {
      throw new Forbidden('wrong password for account deletion', {
        publicMessage: 'That password is not right. Nothing was deleted.',
        title: 'Not deleted',
      });
    }
    await this.containers.retire(person);
    await this.users.delete(person.id);
    this.access.forget(person.id);
    this.logger.info({ userId: person.id, user: person.username }, 'account deleted');
  }
}
