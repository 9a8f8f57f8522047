// Runs the real Spawner server (src/server.ts under tsx, as `npx tsx src/server.ts` does) as a
// child process, for what only a real process shows: SIGKILL in the middle of work, and how
// start-up fails (exit code, what reaches stderr).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A free loopback port (there is a small window in which another process could take it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

export class ServerProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<ServerExit>;
  private readonly child: ChildProcess;

  private constructor(
    env: Record<string, string>,
    readonly url: string,
  ) {
    // Only what the test gives, plus PATH: no .env file and nothing from the test runner leaks in.
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DOTENV_CONFIG_PATH: join(ROOT, '.env.does-not-exist'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts the server on a free loopback port; env must hold everything else it needs. */
  static async start(env: Record<string, string>): Promise<ServerProcess> {
    const port = await freePort();
    return new ServerProcess({ ...env, SPAWNER_PORT: String(port), SPAWNER_LISTEN_HOST: '127.0.0.1' }, `http://127.0.0.1:${port}`);
  }

  /** Starts the server and waits for it to exit by itself (start-up failures); bounded. */
  static async runToExit(
    env: Record<string, string>,
    timeoutMs: number,
  ): Promise<ServerExit & { ms: number; stdout: string; stderr: string }> {
    const started = Date.now();
    const server = await ServerProcess.start(env);
    const timer = setTimeout(() => server.child.kill('SIGKILL'), timeoutMs);
    const exit = await server.exited;
    clearTimeout(timer);
    return { ...exit, ms: Date.now() - started, stdout: server.stdout, stderr: server.stderr };
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves once the server answers HTTP (any status: /health is 503 while Docker is away). */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`server exited before it was ready:\n${this.stderr}\n${this.stdout.slice(-2000)}`);
      try {
        await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`server did not answer within ${timeoutMs} ms:\n${this.stderr}\n${this.stdout.slice(-2000)}`);
  }

  /** Sends the signal (SIGKILL by default: no clean-up of any kind) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ServerExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
