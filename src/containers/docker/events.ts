// Follows Docker's event stream for managed containers (label spawner.managed=true) and hands each
// life event to a listener in the port's words. When the stream ends or the engine goes away it
// reconnects with a growing delay, asking for the events since the last one it saw, so nothing in
// between is lost. Docker's `since` is in whole seconds and replays that second: events already
// handed on (by their nanosecond time) are skipped, so a listener sees each event once.
import type { Readable } from 'node:stream';
import type { Logger } from '../../logger.js';
import type { BackendEvent } from '../backend.js';
import { MANAGED_LABEL, USER_ID_LABEL, USERNAME_LABEL } from '../labels.js';
import type { DockerEngine } from './engine.js';

const ACTIONS = new Set<BackendEvent['action']>(['create', 'start', 'die', 'stop', 'pause', 'unpause', 'destroy', 'health_status']);
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;

interface DockerEventLine {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/** One line of Docker's stream as a BackendEvent, or null for what Spawner does not follow. */
export function backendEventOf(line: DockerEventLine): BackendEvent | null {
  if (line.Type !== 'container' || !line.Action || !line.Actor?.ID) return null;
  const [action, detail] = line.Action.split(': ', 2) as [string, string | undefined];
  if (!ACTIONS.has(action as BackendEvent['action'])) return null;
  const attributes = line.Actor.Attributes ?? {};
  const userId = Number(attributes[USER_ID_LABEL]);
  const health = detail?.trim();
  return {
    action: action as BackendEvent['action'],
    id: line.Actor.ID,
    name: attributes.name ?? '',
    userId: attributes[USER_ID_LABEL] !== undefined && Number.isSafeInteger(userId) ? userId : null,
    username: attributes[USERNAME_LABEL] || null,
    ...(action === 'health_status' && (health === 'healthy' || health === 'unhealthy' || health === 'starting') ? { health } : {}),
    at: new Date(line.timeNano ? line.timeNano / 1e6 : (line.time ?? Date.now() / 1000) * 1000),
  };
}

/**
 * Drops what a resumed stream replays. A resume asks for the events since the newest one's
 * second, so every event of that second is remembered (time, action, container) and only an
 * exact repeat is dropped: two events may carry times out of order on a live stream (Docker
 * stamps them before it publishes), and neither may be lost.
 */
export class ReplayFilter {
  private newestNano = 0;
  private readonly seen = new Map<string, number>();

  /** True the first time an event is seen; false for an exact repeat. */
  fresh(line: DockerEventLine): boolean {
    const nano = line.timeNano ?? (line.time ?? 0) * 1e9;
    const key = `${nano}|${line.Action}|${line.Actor?.ID}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, nano);
    if (nano > this.newestNano) {
      this.newestNano = nano;
      // Only the newest second can be replayed: forget what came before it.
      const floor = Math.floor(nano / 1e9) * 1e9;
      for (const [seenKey, seenNano] of this.seen) if (seenNano < floor) this.seen.delete(seenKey);
    }
    return true;
  }

  /** Epoch seconds of the newest event: where a reconnect resumes (Docker replays that second). */
  get since(): number | undefined {
    return this.newestNano ? Math.floor(this.newestNano / 1e9) : undefined;
  }
}

export function watchDockerEvents(
  engine: Pick<DockerEngine, 'events'>,
  listener: (event: BackendEvent) => void,
  logger: Logger,
  onConnection: (connected: boolean) => void = () => undefined,
): () => void {
  let stopped = false;
  let stream: Readable | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay = FIRST_DELAY_MS;
  const replay = new ReplayFilter();
  const tellConnection = (connected: boolean) => {
    try {
      onConnection(connected);
    } catch (error) {
      logger.error({ err: error }, 'a Docker event connection listener failed');
    }
  };

  const again = () => {
    if (stopped) return;
    timer = setTimeout(() => void connect(), delay);
    timer.unref();
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  };

  const connect = async () => {
    if (stopped) return;
    try {
      stream = await engine.events([`${MANAGED_LABEL}=true`], replay.since);
    } catch (error) {
      logger.warn({ err: error, retryMs: delay }, 'Docker event stream unavailable; retrying');
      return again();
    }
    if (stopped) return void stream.destroy();
    // Docker subscribes before it answers: from here on no event is missed.
    tellConnection(true);
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      delay = FIRST_DELAY_MS;
      const parts = (buffered + chunk.toString('utf8')).split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) {
        if (!part.trim()) continue;
        let line: DockerEventLine;
        try {
          line = JSON.parse(part) as DockerEventLine;
        } catch {
          continue;
        }
        if (!replay.fresh(line)) continue;
        const event = backendEventOf(line);
        if (!event) continue;
        try {
          listener(event);
        } catch (error) {
          logger.error({ err: error }, 'a Docker event listener failed');
        }
      }
    });
    stream.on('error', () => undefined);
    stream.on('close', () => {
      if (stopped) return;
      tellConnection(false);
      logger.debug({ retryMs: delay }, 'Docker event stream ended; reconnecting');
      again();
    });
  };

  void connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    stream?.destroy();
  };
}
