// Websockets for the end-to-end tests: the echo service image (test/fixtures/websocket-image, Node
// on the offline stand-in base, its own tag so other worktrees' test-image rebuilds never touch
// it), and a hand-rolled RFC 6455 client that upgrades through Traefik with the Host and cookies
// a browser would send. Node 20 has no WebSocket global and the repo no `ws` package.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Traefik } from './traefik.js';

const REPO = join(import.meta.dirname, '..', '..');
export const WEBSOCKET_IMAGE = 'spawner-test-websocket:latest';

let built = false;

/** Builds the Node stand-in base (idempotent) and the echo image on it (Docker caches layers). */
export function buildWebSocketImage(): string {
  if (built) return WEBSOCKET_IMAGE;
  const env = { ...process.env, DOCKER_BUILDKIT: '0' };
  execFileSync('bash', [join(REPO, 'scripts', 'build-standin-images.sh'), 'node'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const context = join(REPO, 'test', 'fixtures', 'websocket-image');
  execFileSync('docker', ['build', '-q', '-t', WEBSOCKET_IMAGE, context], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  built = true;
  return WEBSOCKET_IMAGE;
}

export type Upgrade =
  | { upgraded: true; headers: IncomingMessage['headers']; echo(text: string): Promise<string>; close(): void }
  | { upgraded: false; status: number; headers: IncomingMessage['headers']; text: string };

/** A masked client text frame (payload < 126 bytes is all the tests need). */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length >= 126) throw new Error('keep test messages under 126 bytes');
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** The text of the first unmasked server text frame in `buf`, or null while incomplete. */
function serverText(buf: Buffer): string | null {
  if (buf.length < 2) return null;
  let length = buf[1]! & 0x7f;
  let at = 2;
  if (length === 126) {
    if (buf.length < 4) return null;
    length = buf.readUInt16BE(2);
    at = 4;
  }
  return buf.length < at + length ? null : buf.subarray(at, at + length).toString();
}

/**
 * Asks for a websocket upgrade through Traefik (`secure`: its websecure entrypoint, SNI = host,
 * self-signed certificate accepted). Resolves with the open socket on 101, or with the refusal.
 */
export async function openWebSocket(
  traefik: Traefik,
  target: { host: string; path: string; cookie?: string; secure?: boolean; timeoutMs?: number },
): Promise<Upgrade> {
  const { request } = target.secure ? await import('node:https') : await import('node:http');
  const timeoutMs = target.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: target.secure ? traefik.websecurePort : traefik.webPort,
      path: target.path,
      headers: {
        host: target.host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        origin: `${target.secure ? 'https' : 'http'}://${target.host}`,
        ...(target.cookie ? { cookie: target.cookie } : {}),
      },
      timeout: timeoutMs,
      ...(target.secure ? { servername: target.host, rejectUnauthorized: false } : {}),
    });
    req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      let pending = head;
      let waiting: { resolve: (t: string) => void; reject: (e: Error) => void } | undefined;
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        const text = serverText(pending);
        if (text !== null && waiting) {
          pending = Buffer.alloc(0);
          waiting.resolve(text);
          waiting = undefined;
        }
      });
      socket.on('error', (error) => waiting?.reject(error));
      resolve({
        upgraded: true,
        headers: res.headers,
        echo(text) {
          return new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`no echo within ${timeoutMs} ms`)), timeoutMs);
            waiting = {
              resolve: (t) => (clearTimeout(timer), ok(t)),
              reject: (e) => (clearTimeout(timer), fail(e)),
            };
            socket.write(clientFrame(text));
          });
        },
        close() {
          socket.end(Buffer.from([0x88, 0x80, 0, 0, 0, 0]));
          socket.destroy();
        },
      });
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ upgraded: false, status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('upgrade timed out')));
    req.end();
  });
}
