// The container backend port on one plain Docker engine: each person's workload is one container,
// named by the plan, on the network Traefik reads. Turns the engine's answers into the port's
// outcomes: 404 means absent, "already exists" is fine, a missing image or network is a
// ContainerError a person can read, and a failed start says why.
import type { Logger } from '../../logger.js';
import { ContainerError } from '../../errors.js';
import type {
  BackendEvent,
  ContainerBackend,
  InUse,
  LogOptions,
  ManagedWorkload,
  ReadinessSnapshot,
  ServiceAddress,
  WorkloadStatus,
} from '../backend.js';
import type { WorkloadPlan } from '../plan.js';
import { MANAGED_LABEL, ownerLabels, SPEC_HASH_LABEL } from '../labels.js';
import { DockerApiError, type DockerEngine } from './engine.js';
import { buildContainerSpec, type ImageFacts } from './spec.js';
import { readinessFromInspect, statusFromInspect, workloadFromSummary } from './status.js';
import { ConnectionProbe } from './connectionProbe.js';
import { demuxLines } from './logs.js';
import { watchDockerEvents } from './events.js';

/** How long a looked-up template image is trusted before Docker is asked again (rebuilds). */
const IMAGE_CACHE_MS = 30_000;
/** After a 409 the other creator may still be finishing: Docker reserves the name first. */
const CREATED_POLLS = 20;
const CREATED_POLL_MS = 100;

export class DockerBackend implements ContainerBackend {
  readonly capabilities = { pause: true, execProbe: true } as const;
  private readonly images = new Map<string, { facts: ImageFacts; at: number }>();
  private readonly probe: ConnectionProbe;

  constructor(
    private readonly engine: DockerEngine,
    /** The network whose address Spawner probes and forwards to (Traefik's). */
    private readonly network: string,
    private readonly logger: Logger,
  ) {
    this.probe = new ConnectionProbe(engine);
  }

  ping(timeoutMs: number): Promise<void> {
    return this.engine.ping(timeoutMs);
  }

  async inspect(name: string): Promise<WorkloadStatus> {
    const info = await this.engine.inspectContainer(name);
    if (!info) return { state: 'missing', phase: 'missing', name, detail: 'No container yet.' };
    return statusFromInspect(info);
  }

  async create(plan: WorkloadPlan): Promise<void> {
    const { name } = plan;
    const spec = buildContainerSpec(plan, await this.imageFacts(plan.image));
    // Docker would create the container and only fail at start; check first, leave nothing behind.
    if (!(await this.engine.networkExists(plan.network))) {
      throw new ContainerError(
        `network ${plan.network} does not exist`,
        `Your container could not be created: the network "${plan.network}" does not exist. The operator needs to create it.`,
      );
    }
    await this.engine.createVolume(plan.volume, ownerLabels(plan));
    try {
      const id = await this.engine.createContainer(spec);
      this.logger.info({ container: name, id, image: plan.image }, 'container created');
    } catch (error) {
      if (error instanceof DockerApiError && error.statusCode === 409) {
        // Another request or process created it first: use theirs.
        this.logger.debug({ container: name }, 'container already created concurrently');
      } else if (error instanceof DockerApiError) {
        const what =
          error.statusCode === 404 && /network/i.test(error.message) ? `the network "${plan.network}" does not exist` : error.message;
        throw new ContainerError(
          `creating ${name} failed: ${error.message}`,
          `Your container could not be created: ${what}${error.statusCode === 404 ? '.' : ''}`,
          { cause: error },
        );
      } else {
        throw error;
      }
    }
    for (let attempt = 0; attempt < CREATED_POLLS; attempt++) {
      if (await this.engine.inspectContainer(name)) return;
      await new Promise((resolve) => setTimeout(resolve, CREATED_POLL_MS));
    }
    throw new ContainerError(
      `container ${name} vanished right after creation`,
      'Your container disappeared while it was being created. Please try again.',
    );
  }

  async start(name: string): Promise<void> {
    try {
      await this.engine.startContainer(name);
    } catch (error) {
      if (error instanceof DockerApiError) {
        throw new ContainerError(`starting ${name} failed: ${error.message}`, `Your container could not be started: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  stop(name: string, graceSeconds: number): Promise<void> {
    return this.engine.stopContainer(name, graceSeconds);
  }

  restart(name: string, graceSeconds: number): Promise<void> {
    return this.engine.restartContainer(name, graceSeconds);
  }

  pause(name: string): Promise<void> {
    return this.engine.pauseContainer(name);
  }

  unpause(name: string): Promise<void> {
    return this.engine.unpauseContainer(name);
  }

  async remove(name: string, options: { volume?: string } = {}): Promise<void> {
    await this.engine.removeContainer(name);
    if (options.volume) await this.engine.removeVolume(options.volume);
  }

  async list(): Promise<ManagedWorkload[]> {
    return (await this.engine.listContainers([`${MANAGED_LABEL}=true`])).map(workloadFromSummary);
  }

  async fingerprint(plan: WorkloadPlan): Promise<string> {
    return buildContainerSpec(plan, await this.imageFacts(plan.image)).Labels?.[SPEC_HASH_LABEL] ?? '';
  }

  async address(name: string): Promise<ServiceAddress | null> {
    return (await this.readiness(name)).address;
  }

  async readiness(name: string): Promise<ReadinessSnapshot> {
    const info = await this.engine.inspectContainer(name);
    if (!info) return { phase: 'missing', health: 'none', address: null };
    return readinessFromInspect(info, this.network);
  }

  async logs(name: string, options: LogOptions): Promise<NodeJS.ReadableStream> {
    const source = await this.engine.containerLogs(name, {
      follow: options.follow ?? false,
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.since !== undefined ? { since: options.since } : {}),
      ...(options.timestamps ? { timestamps: true } : {}),
    });
    return demuxLines(source, options.signal, { timestamps: options.timestamps ?? false, maxLineLength: options.maxLineLength });
  }

  probeUse(nameOrId: string, port: number): Promise<InUse> {
    return this.probe.check(nameOrId, port);
  }

  watch(listener: (event: BackendEvent) => void, onConnection?: (connected: boolean) => void): () => void {
    return watchDockerEvents(this.engine, listener, this.logger, onConnection);
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
