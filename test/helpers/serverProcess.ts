// Runs the real Spawner server (src/server.ts under tsx, as `npx tsx src/server.ts` does) as a
// child process, for what only a real process shows: SIGKILL in the middle of work, a graceful
// SIGTERM, and how start-up fails (exit code, what reaches stderr).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './ports.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServerProcess {
  stdout = '';
  stderr = '';
  readonly url: string;
  readonly exited: Promise<ServerExit>;
  private readonly child: ChildProcess;

  private constructor(
    env: Record<string, string>,
    readonly port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
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
    return new ServerProcess({ ...env, SPAWNER_PORT: String(port), SPAWNER_LISTEN_HOST: '127.0.0.1' }, port);
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

  /** The JSON log lines (pino, LOG_LEVEL info or lower) the server has written to stdout so far, complete lines only. */
  logLines(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .slice(0, -1)
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Resolves with the first log line matching, or rejects after `ms` with the output so far. */
  async waitForLog(match: (line: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.logLines().find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`log line not seen within ${ms} ms; output:\n${this.stderr}\n${this.stdout.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Sends the signal (SIGKILL by default: no clean-up of any kind) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ServerExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
