// What a person's session does with their container: make sure it runs after signup and login,
// restart or start it on request, and describe it for the dashboard. Docker failures become a
// message for the person, never a failed login.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { ContainerManager, ContainerStatus } from '../containers/manager.js';
import type { Person } from '../containers/naming.js';
import { serviceUrl } from '../containers/routing.js';

export interface Outcome {
  status: ContainerStatus;
  /** A sentence for the person when the container could not be brought up. */
  problem?: string;
}

export interface DashboardView {
  username: string;
  status: ContainerStatus;
  serviceUrl: string;
}

export class WorkspaceService {
  constructor(
    private readonly containers: ContainerManager,
    private readonly config: Pick<Config, 'routingMode' | 'baseDomain' | 'publicScheme'>,
    private readonly logger: Logger,
  ) {}

  /** Brings the person's container up; on failure the outcome says why instead of throwing. */
  async ensureRunning(person: Person): Promise<Outcome> {
    return this.attempt(person, () => this.containers.ensureRunning(person), 'start');
  }

  async restart(person: Person): Promise<Outcome> {
    return this.attempt(person, () => this.containers.restart(person), 'restart');
  }

  async dashboard(person: Person): Promise<DashboardView> {
    return {
      username: person.username,
      status: await this.containers.status(person),
      serviceUrl: serviceUrl(this.config, person.username),
    };
  }

  private async attempt(person: Person, operation: () => Promise<ContainerStatus>, verb: string): Promise<Outcome> {
    try {
      return { status: await operation() };
    } catch (error) {
      const status = this.containers.errorStatus(person, error);
      this.logger.warn({ err: error, user: person.username }, `could not ${verb} container`);
      return { status, problem: status.detail ?? `Your container could not ${verb}.` };
    }
  }
}
