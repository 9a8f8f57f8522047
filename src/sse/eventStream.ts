// Server-sent events on an Express response, for every stream Spawner serves (spawn progress, live
// logs; the API serves the same streams later). One place for the headers proxies need (no
// buffering, no transformation), the keepalive comments that stop idle connections being cut, and
// the framing: a field's value never carries a newline, so no data can forge an event or an id.
import type { Request, Response } from 'express';

export interface EventStream {
  /** Sends one event; `data` is JSON-encoded (one line). False once the client has gone. */
  send(event: string, data: unknown, id?: string): boolean;
  /** Ends the stream from the server's side; `retryMs`: when the browser should reconnect. */
  close(retryMs?: number): void;
  /** Runs once when the stream ends, whichever side ended it. */
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

const KEEPALIVE_MS = 15_000;

/** Takes the response over as an event stream (200, headers flushed at once). */
export function openEventStream(req: Request, res: Response, options: { keepaliveMs?: number; retryMs?: number } = {}): EventStream {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store, no-transform',
    'X-Accel-Buffering': 'no',
    Connection: 'keep-alive',
  });
  res.flushHeaders();
  // Small writes must leave at once, not wait for Nagle.
  req.socket.setNoDelay(true);
  let closed = false;
  const listeners: (() => void)[] = [];
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    for (const listener of listeners.splice(0)) listener();
  };
  const keepalive = setInterval(() => {
    if (!closed) res.write(': keepalive\n\n');
  }, options.keepaliveMs ?? KEEPALIVE_MS);
  keepalive.unref();
  res.on('close', finish);
  // HEAD gets the headers only: a stream without a body would never end.
  if (req.method === 'HEAD') {
    res.end();
    finish();
  } else res.write(`retry: ${options.retryMs ?? 2000}\n\n`);
  return {
    send(event, data, id) {
      if (closed || res.writableEnded) return false;
      const idLine = id === undefined ? '' : `id: ${id.replace(/[\r\n\0]/g, '')}\n`;
      res.write(`event: ${event.replace(/[\r\n]/g, '')}\n${idLine}data: ${JSON.stringify(data)}\n\n`);
      return true;
    },
    close(retryMs) {
      if (!res.writableEnded) res.end(retryMs === undefined ? undefined : `retry: ${Math.round(retryMs)}\n\n`);
      finish();
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
    get closed() {
      return closed;
    },
  };
}
