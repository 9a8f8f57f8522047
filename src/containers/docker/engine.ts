// The narrow slice of the Docker API that Spawner uses, over dockerode. It turns Docker's answers
// into the outcomes they mean (404 = absent, 304 = already so) and everything else into typed
// errors, so DockerBackend reads as intent and a fake engine can stand in for error paths in tests.
import Docker from 'dockerode';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { DockerUnavailable } from '../../errors.js';

/** How long an event stream may be silent before TCP asks whether the engine is still there. */
const EVENTS_KEEPALIVE_MS = 30_000;

export type ContainerInspect = Docker.ContainerInspectInfo;
export type ContainerSummary = Docker.ContainerInfo;
export type ContainerCreateSpec = Docker.ContainerCreateOptions & { name: string };

/** Docker answered with an HTTP error other than the ones that mean "nothing to do". */
export class DockerApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'DockerApiError';
  }
}

/** Docker's bridge option that switches container-to-container traffic on the network on or off. */
export const ICC_OPTION = 'com.docker.network.bridge.enable_icc';

export interface NetworkFacts {
  /** Containers on it may open connections to each other (Docker's default). */
  interContainer: boolean;
  /** No route out: Docker's `internal` network. */
  internal: boolean;
  /** The address block, when one is asked for at creation (Docker's pool otherwise). */
  subnet?: string;
}

export interface DockerEngine {
  ping(timeoutMs: number): Promise<void>;
  /** null when Docker says 404. */
  inspectContainer(nameOrId: string): Promise<ContainerInspect | null>;
  createContainer(spec: ContainerCreateSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  restartContainer(id: string, graceSeconds: number): Promise<void>;
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  removeContainer(id: string): Promise<void>;
  listContainers(labelFilters: string[]): Promise<ContainerSummary[]>;
  /** The image's id and configured user ('' for root), or null when the image is not on the host. */
  inspectImage(ref: string): Promise<{ id: string; user: string } | null>;
  networkExists(name: string): Promise<boolean>;
  /** What isolation the network gives its containers, or null when it does not exist. */
  inspectNetwork(name: string): Promise<NetworkFacts | null>;
  /** Creates a bridge network; false when one of that name exists already (409). */
  createNetwork(name: string, labels: Record<string, string>, options?: NetworkFacts): Promise<boolean>;
  /** Runs a short command in a running container and returns its exit code and output. */
  exec(id: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }>;
  /** Bytes received + sent on the container's network interfaces so far, or null if unknown. */
  networkBytes(id: string): Promise<number | null>;
  createVolume(name: string, labels: Record<string, string>): Promise<void>;
  removeVolume(name: string): Promise<void>;
  /** The container's log stream as Docker sends it (multiplexed frames for a non-TTY container). */
  containerLogs(id: string, options: { tail?: number; follow: boolean; since?: number; timestamps?: boolean }): Promise<Readable>;
  /** Docker's event stream (JSON lines) for containers carrying these labels. */
  events(labelFilters: string[], since?: number): Promise<Readable>;
  /** The engine's CPU architecture as Go names it (amd64, arm64). */
  architecture(): Promise<string>;
  /** Loads an image archive (the `docker save` format) into the engine; resolves when it is in. */
  loadImage(archive: Buffer): Promise<void>;
}

export interface EngineOptions {
  host?: string | undefined;
  socketPath: string;
  timeoutMs: number;
}

export function createDockerClient(options: EngineOptions): Docker {
  if (options.host && !options.host.startsWith('unix://')) {
    const url = new URL(options.host.replace(/^tcp:/, 'http:'));
    return new Docker({
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 2376 : 2375)),
      timeout: options.timeoutMs,
    });
  }
  const socketPath = options.host ? options.host.slice('unix://'.length) : options.socketPath;
  return new Docker({ socketPath, timeout: options.timeoutMs });
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

function messageOf(error: unknown): string {
  const json = (error as { json?: { message?: unknown } })?.json;
  if (json && typeof json.message === 'string') return json.message;
  return error instanceof Error ? error.message : String(error);
}

/** Maps a dockerode failure: HTTP answers become DockerApiError, no answer DockerUnavailable. */
export function translateDockerError(error: unknown): Error {
  const status = statusOf(error);
  if (status !== undefined) return new DockerApiError(status, messageOf(error));
  return new DockerUnavailable(`Docker engine unreachable: ${messageOf(error)}`, { cause: error });
}

async function call<T>(action: () => Promise<T>, ok: Record<number, () => T> = {}): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const status = statusOf(error);
    const outcome = status !== undefined ? ok[status] : undefined;
    if (outcome) return outcome();
    throw translateDockerError(error);
  }
}

export class DockerodeEngine implements DockerEngine {
  constructor(private readonly docker: Docker) {}

  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DockerUnavailable(`Docker engine did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([call(() => this.docker.ping()), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  inspectContainer(nameOrId: string): Promise<ContainerInspect | null> {
    return call<ContainerInspect | null>(() => this.docker.getContainer(nameOrId).inspect(), { 404: () => null });
  }

  async createContainer(spec: ContainerCreateSpec): Promise<string> {
    const container = await call(() => this.docker.createContainer(spec));
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    await call(() => this.docker.getContainer(id).start(), { 304: () => undefined });
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    await call(() => this.docker.getContainer(id).stop({ t: graceSeconds }), { 304: () => undefined, 404: () => undefined });
  }

  async restartContainer(id: string, graceSeconds: number): Promise<void> {
    await call(() => this.docker.getContainer(id).restart({ t: graceSeconds }));
  }

  async pauseContainer(id: string): Promise<void> {
    await call(() => this.docker.getContainer(id).pause());
  }

  async unpauseContainer(id: string): Promise<void> {
    await call(() => this.docker.getContainer(id).unpause());
  }

  async removeContainer(id: string): Promise<void> {
    await call(() => this.docker.getContainer(id).remove({ force: true }), { 404: () => undefined });
  }

  listContainers(labelFilters: string[]): Promise<ContainerSummary[]> {
    return call(() => this.docker.listContainers({ all: true, filters: { label: labelFilters } }));
  }

  inspectImage(ref: string): Promise<{ id: string; user: string } | null> {
    return call<{ id: string; user: string } | null>(
      async () => {
        const info = await this.docker.getImage(ref).inspect();
        return { id: info.Id, user: info.Config?.User ?? '' };
      },
      { 404: () => null },
    );
  }

  async exec(id: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }> {
    const exec = await call(() => this.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true }));
    const stream = await call(() => exec.start({ hijack: true, stdin: false }));
    const output = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        stream.destroy();
        resolve(Buffer.concat(chunks).toString('utf8'));
      }, timeoutMs);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        clearTimeout(timer);
        resolve(demultiplex(Buffer.concat(chunks)));
      });
      stream.on('error', () => {
        clearTimeout(timer);
        resolve('');
      });
    });
    const info = await call(() => exec.inspect());
    return { exitCode: info.ExitCode ?? null, output };
  }

  async networkBytes(id: string): Promise<number | null> {
    // one-shot: answer at once instead of waiting for a second CPU sample (API >= 1.41).
    const stats = (await call(() => this.docker.getContainer(id).stats({ stream: false, 'one-shot': true } as { stream: false }))) as {
      networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
    };
    if (!stats.networks) return null;
    return Object.values(stats.networks).reduce((sum, n) => sum + (n.rx_bytes ?? 0) + (n.tx_bytes ?? 0), 0);
  }

  networkExists(name: string): Promise<boolean> {
    return call<boolean>(async () => (await this.docker.getNetwork(name).inspect(), true), { 404: () => false });
  }

  inspectNetwork(name: string): Promise<NetworkFacts | null> {
    return call<NetworkFacts | null>(
      async () => {
        const info = (await this.docker.getNetwork(name).inspect()) as { Internal?: boolean; Options?: Record<string, string> };
        return { interContainer: info.Options?.[ICC_OPTION] !== 'false', internal: info.Internal === true };
      },
      { 404: () => null },
    );
  }

  createNetwork(
    name: string,
    labels: Record<string, string>,
    options: NetworkFacts = { interContainer: true, internal: false },
  ): Promise<boolean> {
    // CheckDuplicate: before API 1.44 Docker would otherwise create a second network of the same name.
    const create = {
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Internal: options.internal,
      Labels: labels,
      Options: (options.interContainer ? {} : { [ICC_OPTION]: 'false' }) as Record<string, string>,
      ...(options.subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: options.subnet }] } } : {}),
    };
    return call<boolean>(async () => (await this.docker.createNetwork(create), true), { 409: () => false });
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    // Creating a volume that exists returns the existing one: idempotent by design.
    await call(() => this.docker.createVolume({ Name: name, Labels: labels }));
  }

  async removeVolume(name: string): Promise<void> {
    await call(() => this.docker.getVolume(name).remove(), { 404: () => undefined });
  }

  async containerLogs(id: string, options: { tail?: number; follow: boolean; since?: number; timestamps?: boolean }): Promise<Readable> {
    const query = {
      stdout: true,
      stderr: true,
      timestamps: options.timestamps ?? false,
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.since !== undefined ? { since: options.since } : {}),
    };
    const container = this.docker.getContainer(id);
    if (options.follow) {
      const stream = await call(() => container.logs({ ...query, follow: true }) as Promise<Readable>);
      // As for the event stream: a quiet container must not have its followed log cut by the
      // client's idle timeout (DOCKER_TIMEOUT). The reader ends it by destroying the stream.
      const socket = (stream as Partial<IncomingMessage>).socket;
      socket?.setTimeout(0);
      socket?.setKeepAlive(true, EVENTS_KEEPALIVE_MS);
      return stream;
    }
    const buffer = await call(() => container.logs({ ...query, follow: false }));
    return Readable.from([buffer]);
  }

  async events(labelFilters: string[], since?: number): Promise<Readable> {
    const stream = await call(
      () =>
        this.docker.getEvents({
          filters: { type: ['container'], label: labelFilters },
          ...(since !== undefined ? { since } : {}),
        }) as Promise<Readable>,
    );
    // The client's request timeout (DOCKER_TIMEOUT) is an idle timeout on the socket: it would cut
    // a quiet event stream every 30 s. The stream stays open; TCP keep-alive finds a dead peer.
    const socket = (stream as Partial<IncomingMessage>).socket;
    socket?.setTimeout(0);
    socket?.setKeepAlive(true, EVENTS_KEEPALIVE_MS);
    return stream;
  }

  async architecture(): Promise<string> {
    const version = await call(() => this.docker.version());
    return version.Arch;
  }

  async loadImage(archive: Buffer): Promise<void> {
    const stream = await call(() => this.docker.loadImage(Readable.from([archive]), { quiet: true }));
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (error: Error | null, output: { error?: string }[]) => {
        const failed = error?.message ?? output.find((line) => line.error)?.error;
        if (failed) reject(new DockerApiError(500, `loading an image failed: ${failed}`));
        else resolve();
      });
    });
  }
}

/** Docker multiplexes stdout/stderr of a non-TTY exec in frames: 8-byte header, then payload. */
export function demultiplex(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
