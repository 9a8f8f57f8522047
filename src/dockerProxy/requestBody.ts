// Reads a request body for the proxy, whole and bounded, so the policy sees exactly the bytes that
// Docker will get (re-serialized) and nothing is streamed through before it was checked. A call that
// takes no body must come without one: a GET with a body would reach Docker unframed (smuggling).
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { BodyKind } from './policy.js';
import type { Json } from './shape.js';

/** Why a body cannot be read (answered with 400). */
export class BadBody extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadBody';
  }
}

function declaredLength(headers: IncomingMessage['headers']): number | null {
  const raw = headers['content-length'];
  if (raw === undefined) return null;
  if (!/^\d+$/.test(raw)) throw new BadBody('a bad Content-Length');
  return Number(raw);
}

/** Whether the request carries a body at all, from its framing headers. */
export function hasBody(headers: IncomingMessage['headers']): boolean {
  return headers['transfer-encoding'] !== undefined || (declaredLength(headers) ?? 0) > 0;
}

/** The body of an ordinary request, at most maxBytes. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = declaredLength(req.headers);
    if (declared !== null && declared > maxBytes) return reject(new BadBody(`the body is larger than ${maxBytes} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BadBody(`the body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The body of an upgrade request (Node hands over the socket with the bytes read so far): exactly
 * Content-Length bytes, and whatever the client sent after them (already part of the stream).
 */
export function readUpgradeBody(
  headers: IncomingMessage['headers'],
  socket: Socket,
  head: Buffer,
  maxBytes: number,
): Promise<{ body: Buffer; rest: Buffer }> {
  if (headers['transfer-encoding'] !== undefined) return Promise.reject(new BadBody('an upgrade request needs a Content-Length'));
  const length = declaredLength(headers) ?? 0;
  if (length > maxBytes) return Promise.reject(new BadBody(`the body is larger than ${maxBytes} bytes`));
  return new Promise((resolve, reject) => {
    let buffered = head;
    const done = () => {
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      resolve({ body: buffered.subarray(0, length), rest: buffered.subarray(length) });
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= length) done();
    };
    if (buffered.length >= length) return done();
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

/** The body as the policy reads it: parsed JSON, the archive itself, or undefined when there is none. */
export function parseBody(kind: BodyKind, raw: Buffer): Json | Buffer | undefined {
  if (raw.length === 0) return undefined;
  if (kind === 'archive') return raw;
  try {
    return JSON.parse(raw.toString('utf8')) as Json;
  } catch {
    throw new BadBody('the body is not JSON');
  }
}

/** What Docker gets: the checked JSON re-serialized (one spelling of every key), or the archive. */
export function upstreamBody(body: Json | Buffer | undefined): Buffer | undefined {
  if (body === undefined) return undefined;
  return Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
}
