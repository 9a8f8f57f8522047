// Live logs: a person's container output as server-sent events, safe and bounded. The last lines
// (tail, at most 1,000), then new ones as they come; each event's id is Docker's timestamp of the
// line, so a reconnecting EventSource (Last-Event-ID) resumes after the last line it got, never
// repeating one. Text only (text.ts), lines cut at 64 KB, a per-stream rate cap whose drops are
// told in a "dropped" event, at most two streams per person and a global cap (429 beyond), and
// the engine's stream destroyed the moment the client goes. The dashboard uses it; the API's
// /api/v1/users/{name}/server/logs is meant to call the same open().
import type { Request, Response } from 'express';
import type { ContainerBackend } from '../containers/backend.js';
import type { Logger } from '../logger.js';
import type { Person } from '../containers/naming.js';
import { TooManyRequests } from '../errors.js';
import { openEventStream } from '../sse/eventStream.js';
import { plainText, splitStamp, timestampNanos } from './text.js';

export const MAX_TAIL = 1000;
export const DEFAULT_TAIL = 200;
/** 64 KB of text; the rest of a longer line is skipped (the line ends in "…"). */
export const MAX_LINE_LENGTH = 64 * 1024;

/** Bytes waiting for a slow client beyond which lines are dropped (memory stays bounded). */
const MAX_BUFFERED = 1024 * 1024;

/** A stopped container's log is asked again this often by an open page (not every 2 s). */
const END_RETRY_MS = 10_000;

export interface LiveLogLimits {
  maxStreams: number;
  maxStreamsPerPerson: number;
  linesPerSecond: number;
}

export interface LogRequest {
  /** Whose container's log (the caller decided the viewer may see it). */
  person: Person;
  tail: number;
  /** The id of the last event the client got (Last-Event-ID); lines up to it are skipped. */
  after?: string | undefined;
}

export class LiveLogs {
  private readonly perPerson = new Map<number, number>();
  private open_ = 0;

  constructor(
    private readonly backend: Pick<ContainerBackend, 'logs'>,
    /** The person's workload name on the backend (the manager's nameFor). */
    private readonly nameFor: (person: Person) => string,
    private readonly limits: LiveLogLimits,
    private readonly logger: Logger,
    private readonly onEngineError: (error: unknown) => void = () => undefined,
  ) {}

  /** Streams open now (all people). */
  get openStreams(): number {
    return this.open_;
  }

  /**
   * Takes the response over as the log stream. Throws TooManyRequests (nothing written) beyond the
   * caps, and the backend's error when the engine cannot give the log at all.
   */
  async stream(req: Request, res: Response, request: LogRequest): Promise<void> {
    const personId = request.person.id;
    const workload = this.nameFor(request.person);
    const mine = this.perPerson.get(personId) ?? 0;
    if (mine >= this.limits.maxStreamsPerPerson) throw new TooManyRequests('This log is already open in two places. Close one first.', 5);
    if (this.open_ >= this.limits.maxStreams) throw new TooManyRequests('Too many logs are being watched right now. Try again soon.', 10);
    this.perPerson.set(personId, mine + 1);
    this.open_++;
    const abort = new AbortController();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      abort.abort();
      this.open_--;
      const left = (this.perPerson.get(personId) ?? 1) - 1;
      if (left > 0) this.perPerson.set(personId, left);
      else this.perPerson.delete(personId);
    };
    const after = request.after ? timestampNanos(request.after) : undefined;
    let lines: NodeJS.ReadableStream;
    try {
      lines = await this.backend.logs(workload, {
        follow: true,
        // On a resume: every line since the last one's second (up to the cap), minus those already sent.
        tail: request.tail,
        ...(after !== undefined ? { since: Number(after / 1_000_000_000n), tail: MAX_TAIL } : {}),
        timestamps: true,
        maxLineLength: MAX_LINE_LENGTH,
        signal: abort.signal,
      });
    } catch (error) {
      release();
      this.onEngineError(error);
      throw error;
    }
    if (res.destroyed) {
      release();
      return;
    }
    const events = openEventStream(req, res);
    events.onClose(release);
    const rate = this.limits.linesPerSecond;
    // The tail arrives at once: the bucket starts with room for it, then refills at the rate.
    let tokens = request.tail + rate;
    let refilled = Date.now();
    let dropped = 0;
    let lastId: string | undefined;
    const tellDropped = () => {
      if (dropped === 0) return;
      events.send('dropped', { count: dropped }, lastId);
      dropped = 0;
    };
    const dropTimer = setInterval(tellDropped, 1000);
    dropTimer.unref();
    events.onClose(() => clearInterval(dropTimer));

    lines.on('data', (raw: string | Buffer) => {
      const { stamp, text } = splitStamp(String(raw));
      const at = timestampNanos(stamp);
      if (after !== undefined && at !== undefined && at <= after) return;
      const now = Date.now();
      if (tokens < rate) tokens = Math.min(rate, tokens + ((now - refilled) / 1000) * rate);
      refilled = now;
      // Over the rate, or the client is not reading: drop and count (memory stays bounded).
      if (tokens < 1 || res.writableLength > MAX_BUFFERED) {
        dropped++;
        if (at !== undefined) lastId = stamp;
        return;
      }
      tokens--;
      tellDropped();
      events.send('line', { text: plainText(text) }, at !== undefined ? stamp : undefined);
      if (at !== undefined) lastId = stamp;
    });
    const ended = (why: string) => {
      tellDropped();
      if (!events.closed) {
        // The container stopped (or the engine went): the browser reconnects later and resumes.
        events.send('end', { reason: why }, lastId);
        events.close(END_RETRY_MS);
      }
    };
    lines.on('end', () => ended('the container is not running'));
    lines.on('error', (error: unknown) => {
      if (abort.signal.aborted) return;
      this.logger.warn({ err: error, workload: workload }, 'log stream failed');
      this.onEngineError(error);
      ended('the log stream was interrupted');
    });
  }
}
