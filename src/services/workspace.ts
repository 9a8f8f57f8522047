// What a person's session does with their container: make sure it runs after signup and login,
// restart or start it on request, and describe it for the dashboard. Docker failures become a
// message for the person, never a failed login.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { ContainerManager, ContainerStatus } from '../containers/manager.js';
import type { Person } from '../containers/naming.js';
import { serviceUrl } from '../addressing.js';
import type { ActivityTracker } from '../lifecycle/activity.js';
import type { WorkloadReason } from '../containers/events.js';

export interface Outcome {
  status: ContainerStatus;
  /** A sentence for the person when the container could not be brought up. */
  problem?: string;
}

export interface DashboardView {
  username: string;
  status: ContainerStatus;
  serviceUrl: string;
  /** When an unused running container will be stopped; undefined when idle shutdown is off. */
  stopsAt?: Date;
  idleTimeoutMinutes?: number;
}

export class WorkspaceService {
  constructor(
    private readonly containers: ContainerManager,
    private readonly activity: ActivityTracker,
    private readonly config: Pick<Config, 'routingMode' | 'baseDomain' | 'publicScheme' | 'traefikApi'>,
    private readonly logger: Logger,
    /**
     * After a start or restart Spawner asked for: follows the service until it answers, so the
     * dashboard's progress reaches "ready" (wiring passes the wake service's wait).
     */
    private readonly afterStart: (person: Person) => void = () => undefined,
  ) {}

  /** Brings the person's container up; on failure the outcome says why instead of throwing. */
  async ensureRunning(person: Person, reason: WorkloadReason = 'login'): Promise<Outcome> {
    this.activity.touch(person.id);
    return this.attempt(person, () => this.containers.ensureRunning(person, reason), 'start');
  }

  async restart(person: Person): Promise<Outcome> {
    return this.attempt(person, () => this.containers.restart(person, 'restart'), 'restart');
  }

  /** "Keep it running": counts as use now, so the idle clock starts again. */
  keepAlive(person: Person): void {
    this.activity.touch(person.id);
  }

  async dashboard(person: Person, port = ''): Promise<DashboardView> {
    // Looking at the dashboard is use too.
    this.activity.touch(person.id);
    const status = await this.containers.status(person);
    const view: DashboardView = { username: person.username, status, serviceUrl: serviceUrl(this.config, person.username, port) };
    const idleMs = this.config.traefikApi.metricsUrl ? (await this.containers.plan(person)).idle.idleTimeoutMs : 0;
    const last = this.activity.lastActivity(person.id);
    if (idleMs > 0 && status.state === 'running' && last !== undefined) {
      view.stopsAt = new Date(last + idleMs);
      view.idleTimeoutMinutes = Math.round(idleMs / 60_000);
    }
    return view;
  }

  private async attempt(person: Person, operation: () => Promise<ContainerStatus>, verb: string): Promise<Outcome> {
    try {
      const status = await operation();
      this.afterStart(person);
      return { status };
    } catch (error) {
      const status = this.containers.errorStatus(person, error);
      this.logger.warn({ err: error, user: person.username }, `could not ${verb} container`);
      return { status, problem: status.detail ?? `Your container could not ${verb}.` };
    }
  }
}
