// Makes Traefik re-read Docker now. Its Docker provider re-lists containers only on start, die and
// health events (pkg/provider/docker/pdocker.go in v3.6), so pausing or unpausing a container
// changes nothing until some container starts or stops. A tiny, unrouted, network-less container
// started on demand is that event: after a pause Traefik drops the paused service's route (so its
// requests reach Spawner's wake fallback), after an unpause it routes to it again. It follows the
// manager's events; its image is its own (nudgeImage.ts), never a person's template, and it is
// built by the same hardening code as people's containers.
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { WorkloadEvents } from '../events.js';
import { ensureNudgeImage } from './nudgeImage.js';
import type { ContainerCreateSpec, DockerEngine } from './engine.js';
import { hardenedHostConfig } from './spec.js';

type NudgeConfig = Pick<Config, 'containers' | 'traefik'>;

/** After an unpause, a moment later, so the nudge's restart does not compete with the wake itself. */
const AFTER_UNPAUSE_MS = 250;

export class TraefikNudge {
  private pending: Promise<void> | undefined;
  private again = false;
  private image: Promise<string> | undefined;

  constructor(
    private readonly engine: DockerEngine,
    private readonly config: NudgeConfig,
    private readonly logger: Logger,
  ) {}

  get name(): string {
    return `${this.config.containers.namePrefix}-traefik-nudge`;
  }

  /**
   * Nudges after every pause (Traefik must drop the route) and a moment after every unpause
   * (Spawner forwards the person's requests until Traefik has the route back).
   */
  follow(events: WorkloadEvents): () => void {
    const offPaused = events.on('paused', () => void this.nudge());
    const offUnpaused = events.on('unpaused', () => setTimeout(() => void this.nudge(), AFTER_UNPAUSE_MS).unref());
    return () => {
      offPaused();
      offUnpaused();
    };
  }

  /** Starts the nudge container (creating it first if needed); calls during one coalesce. */
  nudge(): Promise<void> {
    if (this.pending) {
      this.again = true;
      return this.pending;
    }
    this.pending = this.restart()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not nudge Traefik'))
      .finally(() => {
        this.pending = undefined;
        if (this.again) {
          this.again = false;
          void this.nudge();
        }
      });
    return this.pending;
  }

  spec(image: string): ContainerCreateSpec {
    return {
      name: this.name,
      Image: image,
      User: '65534:65534',
      Labels: { ...this.config.containers.extraLabels, 'spawner.nudge': 'true' },
      HostConfig: hardenedHostConfig({
        network: 'none',
        restart: 'no',
        init: false,
        limits: { memoryBytes: 32 * 1024 * 1024, cpuQuota: 10_000, cpuPeriod: 100_000, pidsLimit: 16 },
        capAdd: [],
        readOnly: true,
        tmpfsBytes: 1024 * 1024,
        logs: { maxSize: '1m', maxFile: 1 },
        mounts: undefined,
      }),
    };
  }

  private imageTag(): Promise<string> {
    if (this.config.traefik.nudgeImage) return Promise.resolve(this.config.traefik.nudgeImage);
    this.image ??= ensureNudgeImage(this.engine).catch((error: unknown) => {
      this.image = undefined;
      throw error;
    });
    return this.image;
  }

  private async restart(): Promise<void> {
    const image = await this.imageTag();
    let info = await this.engine.inspectContainer(this.name);
    if (info && info.Config.Image !== image) {
      // Made by an older Spawner from the template image (or another NUDGE_IMAGE): replace it.
      await this.engine.removeContainer(info.Id);
      info = null;
    }
    if (!info) {
      await this.engine.createContainer(this.spec(image)).catch((error: unknown) => {
        if ((error as { statusCode?: number }).statusCode !== 409) throw error;
      });
      info = await this.engine.inspectContainer(this.name);
    }
    if (!info) return;
    // t=0: the point is the die and start events, not a graceful stop. The built-in image exits
    // at once (start, then die); an image named in NUDGE_IMAGE may keep running (die, then start).
    if (info.State.Running) await this.engine.restartContainer(info.Id, 0);
    else await this.engine.startContainer(info.Id);
  }
}
