// Makes Traefik re-read Docker now. Its Docker provider re-lists containers only on start, die and
// health events (pkg/provider/docker/pdocker.go in v3.6), so pausing or unpausing a container
// changes nothing until some container starts or stops. A tiny, unrouted, network-less container
// restarted on demand is that event: after a pause Traefik drops the paused service's route (so
// its requests reach Spawner's wake fallback), after an unpause it routes to it again.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { DockerEngine } from '../containers/engine.js';

type NudgeConfig = Pick<Config, 'containers'>;

export class TraefikNudge {
  private pending: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly engine: DockerEngine,
    private readonly config: NudgeConfig,
    private readonly logger: Logger,
  ) {}

  get name(): string {
    return `${this.config.containers.namePrefix}-traefik-nudge`;
  }

  /** Restarts the nudge container (creating it first if needed); calls during one coalesce. */
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

  private async restart(): Promise<void> {
    let info = await this.engine.inspectContainer(this.name);
    if (!info) {
      const c = this.config.containers;
      await this.engine
        .createContainer({
          name: this.name,
          Image: c.image,
          User: '65534:65534',
          Labels: { ...c.extraLabels, 'spawner.nudge': 'true' },
          HostConfig: {
            NetworkMode: 'none',
            Memory: 32 * 1024 * 1024,
            PidsLimit: 16,
            CapDrop: ['ALL'],
            SecurityOpt: ['no-new-privileges:true'],
            Init: true,
            LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
          },
        })
        .catch((error: unknown) => {
          if ((error as { statusCode?: number }).statusCode !== 409) throw error;
        });
      info = await this.engine.inspectContainer(this.name);
    }
    if (!info) return;
    // t=0: the point is the die and start events, not a graceful stop.
    if (info.State.Running) await this.engine.restartContainer(info.Id, 0);
    else await this.engine.startContainer(info.Id);
  }
}
