// Graceful shutdown of the real server process (src/server.ts, as `npm start` runs it): SIGTERM
// arrives while a signup is still being received; Spawner stops accepting connections, finishes
// that request (bcrypt, container and all), closes the database and exits 0 within 10 s, and the
// people's containers keep running.
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { inject } from 'vitest';
import { createTestNetwork, dockerClient, TEST_RUN_LABEL } from '../helpers/docker.js';
import { FormClient } from '../helpers/formClient.js';
import { uniquePrefix } from '../helpers/app.js';
import { ServerProcess, type ServerExit } from '../helpers/serverProcess.js';
import { TEST_IMAGE } from '../helpers/testImage.js';

const runId = inject('runId');
const docker = dockerClient();
let dir: string;
let port: number;
let prefix: string;
let server: ServerProcess;

/** `promise`, or a rejection naming `what` once `ms` pass without it. */
function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The server's exit, or a rejection once `ms` pass without one. */
function exitWithin(exited: Promise<ServerExit>, ms: number): Promise<ServerExit> {
  return withinMs(exited, ms, 'exit of the server');
}

function connectionRefused(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(2000, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

beforeAll(async () => {
  const network = await createTestNetwork(runId, `spawner-test-${runId}-shutdown`);
  dir = mkdtempSync(join(tmpdir(), 'spawner-shutdown-'));
  prefix = uniquePrefix();
  // No .env from the working tree (ServerProcess points dotenv at a missing file): everything the
  // server sees is set here.
  server = await ServerProcess.start({
    NODE_ENV: 'test',
    SECRET_KEY: 'shutdown-test-secret-key-0123456789abcdef',
    LOG_LEVEL: 'info',
    BASE_DOMAIN: 'shutdown.test',
    DATABASE_PATH: join(dir, 'spawner.db'),
    TRAEFIK_NETWORK: network,
    USER_TEMPLATE_IMAGE: TEST_IMAGE,
    CONTAINER_NAME_PREFIX: prefix,
    CONTAINER_EXTRA_LABELS: `${TEST_RUN_LABEL}=${runId}`,
    BCRYPT_COST: '4',
  });
  port = server.port;
  await server.waitForLog((l) => l.msg === 'spawner listening', 30_000);
});

afterAll(async () => {
  await server?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SIGTERM', () => {
  it('when SIGTERM arrives during a signup, then the signup completes, new connections are refused, the process exits 0 within 10 s and containers keep running', async () => {
    onTestFailed(() => console.error(`${server.stderr}\n${server.stdout.slice(-5000)}`));
    const alice = new FormClient(`http://127.0.0.1:${port}`);
    const first = await alice.signUp('alice');
    expect(first.status).toBe(303);
    expect(first.location).toBe('/dashboard');
    // Reconcile ran at start (no containers yet for this prefix).
    expect(await server.waitForLog((l) => l.msg === 'reconciled containers with the database', 10_000)).toMatchObject({ matched: 0 });

    // Bob's signup: headers and half the body now, the rest after SIGTERM.
    const bob = new FormClient(`http://127.0.0.1:${port}`);
    const token = await bob.csrfToken('/signup');
    const body = new URLSearchParams({
      _csrf: token,
      username: 'bob',
      email: 'bob@example.com',
      password: 'correct horse battery',
    }).toString();
    const socket: Socket = createConnection({ host: '127.0.0.1', port });
    // Node answers `Expect: 100-continue` once it has parsed the request and handed it to the app:
    // the event that bob's signup is under way (not a pause that hopes it is). The answer proper follows it.
    const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
    let received = '';
    let answer = '';
    let answeredAt = 0;
    let underWay: () => void = () => undefined;
    const handedToApp = new Promise<void>((resolve) => (underWay = resolve));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      if (received.startsWith(CONTINUE)) underWay();
      answer = received.startsWith(CONTINUE) ? received.slice(CONTINUE.length) : received;
      if (answer) answeredAt ||= Date.now();
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      [
        'POST /signup HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'Connection: keep-alive',
        'Content-Type: application/x-www-form-urlencoded',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Expect: 100-continue',
        `Cookie: ${bob.cookieHeader()}`,
        '',
        '',
      ].join('\r\n'),
    );
    const half = Math.floor(body.length / 2);
    socket.write(body.slice(0, half));
    await withinMs(handedToApp, 10_000, "Node's 100 Continue for bob's signup");
    expect(answer).toBe('');

    const signalledAt = Date.now();
    const exited = exitWithin(server.kill('SIGTERM'), 10_000);
    await server.waitForLog((l) => l.msg === 'shutting down; people’s containers keep running', 5_000);
    // Not accepting any more, while bob's request is still open.
    expect(await connectionRefused()).toBe(true);
    expect(answer).toBe('');

    socket.write(body.slice(half));
    const { code, signal } = await exited;
    const exitedAt = Date.now();
    const exitMs = exitedAt - signalledAt;
    await closed;

    expect(answer).toMatch(/^HTTP\/1\.1 303 /);
    expect(answer).toMatch(/\r\nLocation: \/dashboard\r\n/i);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(10_000);
    expect(server.logLines().map((l) => l.msg)).toContain('stopped');
    // No waiting for idle keep-alive connections (5 s each) once the last answer is out.
    expect(exitedAt - answeredAt).toBeLessThan(2500);
    console.info(`exit ${exitMs} ms after SIGTERM, ${exitedAt - answeredAt} ms after the last answer`);

    // The database was closed cleanly (the WAL file is checkpointed away) and holds bob's account.
    expect(existsSync(join(dir, 'spawner.db-wal'))).toBe(false);
    const sqlite = new Database(join(dir, 'spawner.db'), { readonly: true });
    try {
      const rows = sqlite.prepare('SELECT id, username, container_id AS containerId FROM users ORDER BY id').all() as {
        id: number;
        username: string;
        containerId: string;
      }[];
      expect(rows.map((r) => r.username)).toEqual(['alice', 'bob']);
      for (const row of rows) {
        const info = await docker.getContainer(`${prefix}-${row.username}-${row.id}`).inspect();
        expect(info.Id).toBe(row.containerId);
        expect(info.State.Running).toBe(true);
      }
    } finally {
      sqlite.close();
    }
  });
});
