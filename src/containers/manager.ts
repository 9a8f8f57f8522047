// ContainerManager: the intent-level operations on a person's container. Docker's state is the
// truth; the database only remembers the last id seen. Operations on one person run one at a
// time (a double-click, two tabs, signup racing login all share the same promise), and Docker's
// unique container names guard against a second Spawner process doing the same.
import type { Logger } from '../logger.js';
import { ContainerError, DockerUnavailable } from '../errors.js';
import { DockerApiError, type ContainerInspect, type DockerEngine } from './engine.js';
import { MANAGED_LABEL } from './labels.js';
import { containerName, volumeName, type Person } from './naming.js';
import { buildContainerSpec, SPEC_HASH_LABEL, type ImageFacts, type SpecConfig } from './spec.js';

export type ContainerState = 'running' | 'starting' | 'paused' | 'stopped' | 'missing' | 'error';

export interface ContainerStatus {
  state: ContainerState;
  name: string;
  id?: string;
  /** Why the state is what it is, in words a person can read (for 'error', 'stopped', 'starting'). */
  detail?: string;
  startedAt?: Date;
}

export interface ContainerRecorder {
  /**
   * Called whenever Docker reports an id for the person's container that the caller should keep.
   * Awaited inside the person's queued operation: records keep their order, and a failed write
   * fails the operation as it always did.
   */
  recordContainer(personId: number, container: { id: string | null; name: string | null }): void | Promise<void>;
}

const STOP_GRACE_SECONDS = 10;

interface QueueEntry {
  key: string;
  result: Promise<unknown>;
  /** Resolves when the operation is over, whether it succeeded or not. */
  settled: Promise<unknown>;
}
/** How long a looked-up template image is trusted before Docker is asked again (rebuilds). */
const IMAGE_CACHE_MS = 30_000;

export function statusFromInspect(info: ContainerInspect): ContainerStatus {
  const name = info.Name.replace(/^\//, '');
  const state = info.State;
  const base = { name, id: info.Id };
  const startedAt = state.StartedAt && !state.StartedAt.startsWith('0001') ? new Date(state.StartedAt) : undefined;
  if (state.Paused)
    return {
      ...base,
      state: 'paused',
      detail: 'Paused to save resources; it wakes on the next visit.',
      ...(startedAt ? { startedAt } : {}),
    };
  if (state.Restarting) return { ...base, state: 'starting', detail: 'Restarting after it stopped unexpectedly.' };
  if (state.Running) {
    const health = state.Health?.Status;
    if (health === 'starting')
      return {
        ...base,
        state: 'starting',
        detail: 'Started; waiting for the service to report ready.',
        ...(startedAt ? { startedAt } : {}),
      };
    if (health === 'unhealthy')
      return { ...base, state: 'error', detail: 'Running, but its health check fails.', ...(startedAt ? { startedAt } : {}) };
    return { ...base, state: 'running', ...(startedAt ? { startedAt } : {}) };
  }
  if (state.Status === 'created') return { ...base, state: 'stopped', detail: 'Created but not started.' };
  if (state.OOMKilled) return { ...base, state: 'stopped', detail: 'Stopped: it ran out of memory.' };
  const exit = state.ExitCode;
  const detail = state.Error
    ? `Stopped: ${state.Error}`
    : exit && exit !== 0 && exit !== 143 && exit !== 137
      ? `Stopped with exit code ${exit}.`
      : 'Stopped.';
  return { ...base, state: 'stopped', detail };
}

export class ContainerManager {
  private readonly queues = new Map<number, QueueEntry>();
  private readonly stopListeners: ((personId: number) => void)[] = [];
  private readonly unpauseListeners: ((personId: number) => void)[] = [];
  private readonly images = new Map<string, { facts: ImageFacts; at: number }>();

  constructor(
    private readonly engine: DockerEngine,
    private readonly config: SpecConfig,
    private readonly recorder: ContainerRecorder,
    private readonly logger: Logger,
  ) {}

  /**
   * Runs operations on one person strictly one after another. A request for the operation that is
   * already last in line (a double-click, two tabs) shares its result instead of queueing again.
   */
  private serialize<T>(person: Person, key: string, operation: () => Promise<T>): Promise<T> {
    const last = this.queues.get(person.id);
    if (last?.key === key) return last.result as Promise<T>;
    const result = (last?.settled ?? Promise.resolve()).then(operation);
    const entry: QueueEntry = { key, result, settled: result.catch(() => undefined) };
    this.queues.set(person.id, entry);
    void entry.settled.then(() => {
      if (this.queues.get(person.id) === entry) this.queues.delete(person.id);
    });
    return result;
  }

  /** Called after a person's container was stopped, restarted or removed (its address may change). */
  onStopped(listener: (personId: number) => void): void {
    this.stopListeners.push(listener);
  }

  private stopped(person: Person): void {
    for (const listener of this.stopListeners) listener(person.id);
  }

  /** Called after a paused container was unpaused (Traefik needs telling: it ignores unpause). */
  onUnpaused(listener: (personId: number) => void): void {
    this.unpauseListeners.push(listener);
  }

  private async unpause(person: Person, id: string): Promise<void> {
    await this.engine.unpauseContainer(id);
    for (const listener of this.unpauseListeners) listener(person.id);
  }

  nameFor(person: Person): string {
    return containerName(this.config, person);
  }

  /** Reuse running, unpause paused, start stopped, create missing. Idempotent. */
  ensureRunning(person: Person): Promise<ContainerStatus> {
    return this.serialize(person, 'ensure', () => this.doEnsureRunning(person));
  }

  restart(person: Person): Promise<ContainerStatus> {
    return this.serialize(person, 'restart', async () => {
      const info = await this.engine.inspectContainer(this.nameFor(person));
      if (!info) return this.doEnsureRunning(person);
      if (await this.isOutdated(info, person)) {
        this.logger.info({ container: this.nameFor(person) }, 'recreating container built from an older configuration');
        this.stopped(person);
        await this.engine.removeContainer(info.Id);
        return this.doEnsureRunning(person);
      }
      if (info.State.Paused) await this.engine.unpauseContainer(info.Id);
      this.stopped(person);
      await this.engine.restartContainer(info.Id, STOP_GRACE_SECONDS);
      return this.inspectStatus(person);
    });
  }

  stop(person: Person): Promise<ContainerStatus> {
    return this.serialize(person, 'stop', async () => {
      const info = await this.engine.inspectContainer(this.nameFor(person));
      if (!info) return { state: 'missing', name: this.nameFor(person) };
      if (info.State.Paused) await this.engine.unpauseContainer(info.Id);
      this.stopped(person);
      await this.engine.stopContainer(info.Id, STOP_GRACE_SECONDS);
      return this.inspectStatus(person);
    });
  }

  pause(person: Person): Promise<ContainerStatus> {
    return this.serialize(person, 'pause', async () => {
      const info = await this.engine.inspectContainer(this.nameFor(person));
      if (info?.State.Running && !info.State.Paused) {
        this.stopped(person);
        await this.engine.pauseContainer(info.Id);
      }
      return this.inspectStatus(person);
    });
  }

  /** Removes the container; with `data: true` also the person's volume (account deletion only). */
  remove(person: Person, options: { data: boolean }): Promise<void> {
    return this.serialize(person, 'remove', async () => {
      this.stopped(person);
      await this.engine.removeContainer(this.nameFor(person));
      if (options.data) await this.engine.removeVolume(volumeName(this.config, person));
      await this.recorder.recordContainer(person.id, { id: null, name: null });
    });
  }

  /** What Docker says now; never throws (an unreachable engine is an 'error' state). */
  async status(person: Person): Promise<ContainerStatus> {
    try {
      return await this.inspectStatus(person);
    } catch (error) {
      return this.errorStatus(person, error);
    }
  }

  errorStatus(person: Person, error: unknown): ContainerStatus {
    const name = this.nameFor(person);
    if (error instanceof DockerUnavailable || error instanceof ContainerError) {
      return { state: 'error', name, detail: error.publicMessage };
    }
    this.logger.error({ err: error, container: name }, 'unexpected container error');
    return { state: 'error', name, detail: 'The container engine reported an unexpected error.' };
  }

  /** Every container Spawner manages on this engine (one call, whatever the number of people). */
  listManaged() {
    return this.engine.listContainers([`${MANAGED_LABEL}=true`]);
  }

  private async inspectStatus(person: Person): Promise<ContainerStatus> {
    const info = await this.engine.inspectContainer(this.nameFor(person));
    if (!info) return { state: 'missing', name: this.nameFor(person), detail: 'No container yet.' };
    return this.statusOf(person, info);
  }

  /** The status Docker reported, after remembering the container's id for the person. */
  private async statusOf(person: Person, info: ContainerInspect): Promise<ContainerStatus> {
    await this.recorder.recordContainer(person.id, { id: info.Id, name: this.nameFor(person) });
    return statusFromInspect(info);
  }

  private async desiredSpec(person: Person) {
    return buildContainerSpec(this.config, person, await this.imageFacts(this.config.containers.image));
  }

  /** True when the container was built from another config or image than the current one. */
  private async isOutdated(info: ContainerInspect, person: Person): Promise<boolean> {
    try {
      const desired = (await this.desiredSpec(person)).Labels?.[SPEC_HASH_LABEL];
      return info.Config.Labels?.[SPEC_HASH_LABEL] !== desired;
    } catch (error) {
      // Without the template image there is nothing to recreate from: keep what exists.
      if (error instanceof ContainerError) return false;
      throw error;
    }
  }

  private async doEnsureRunning(person: Person): Promise<ContainerStatus> {
    const name = this.nameFor(person);
    let info = await this.engine.inspectContainer(name);
    if (info && !info.State.Running && (await this.isOutdated(info, person))) {
      // Stopped and built from an older configuration: recreate it; the data volume stays.
      this.logger.info({ container: name }, 'recreating stopped container built from an older configuration');
      await this.engine.removeContainer(info.Id);
      info = null;
    }
    if (!info) info = await this.create(person);
    if (info.State.Paused) {
      await this.unpause(person, info.Id);
    } else if (!info.State.Running || info.State.Restarting) {
      await this.start(info.Id, name);
    } else {
      // Already running (every login and wake of a running service): what we read is current.
      return this.statusOf(person, info);
    }
    return this.inspectStatus(person);
  }

  private async start(id: string, name: string): Promise<void> {
    try {
      await this.engine.startContainer(id);
    } catch (error) {
      if (error instanceof DockerApiError) {
        throw new ContainerError(`starting ${name} failed: ${error.message}`, `Your container could not be started: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  private async create(person: Person): Promise<ContainerInspect> {
    const name = this.nameFor(person);
    const image = this.config.containers.image;
    const spec = await this.desiredSpec(person);
    // Docker would create the container and only fail at start; check first, leave nothing behind.
    if (!(await this.engine.networkExists(this.config.traefik.network))) {
      throw new ContainerError(
        `network ${this.config.traefik.network} does not exist`,
        `Your container could not be created: the network "${this.config.traefik.network}" does not exist. The operator needs to create it.`,
      );
    }
    await this.engine.createVolume(volumeName(this.config, person), {
      ...this.config.containers.extraLabels,
      [MANAGED_LABEL]: 'true',
      'spawner.user_id': String(person.id),
      'spawner.username': person.username,
    });
    try {
      const id = await this.engine.createContainer(spec);
      this.logger.info({ container: name, id, image }, 'container created');
    } catch (error) {
      if (error instanceof DockerApiError && error.statusCode === 409) {
        // Another request or process created it first: use theirs.
        this.logger.debug({ container: name }, 'container already created concurrently');
      } else if (error instanceof DockerApiError && error.statusCode === 404) {
        const what = /network/i.test(error.message) ? `the network "${this.config.traefik.network}" does not exist` : error.message;
        throw new ContainerError(`creating ${name} failed: ${error.message}`, `Your container could not be created: ${what}.`, {
          cause: error,
        });
      } else if (error instanceof DockerApiError) {
        throw new ContainerError(`creating ${name} failed: ${error.message}`, `Your container could not be created: ${error.message}`, {
          cause: error,
        });
      } else {
        throw error;
      }
    }
    // After a 409 the other creator may still be finishing: Docker reserves the name first.
    for (let attempt = 0; attempt < 20; attempt++) {
      const info = await this.engine.inspectContainer(name);
      if (info) return info;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new ContainerError(
      `container ${name} vanished right after creation`,
      'Your container disappeared while it was being created. Please try again.',
    );
  }

  private async imageFacts(image: string): Promise<ImageFacts> {
    const known = this.images.get(image);
    if (known && Date.now() - known.at < IMAGE_CACHE_MS) return known.facts;
    const facts = await this.engine.inspectImage(image);
    if (facts === null) {
      throw new ContainerError(
        `template image ${image} is not present on the Docker host`,
        `The template image "${image}" is not available on the server. The operator needs to build or pull it.`,
      );
    }
    this.images.set(image, { facts, at: Date.now() });
    return facts;
  }
}
