// Runs a command inside a running container (docker exec) and returns its exit code and output,
// to look at a container from the inside: who a process runs as, what it may write.
import { PassThrough } from 'node:stream';
import { dockerClient } from './docker.js';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const EXEC_TIMEOUT_MS = 15_000;

/** Runs cmd in the container as its configured user (or `user`), bounded in time. */
export async function execIn(container: string, cmd: string[], options: { user?: string } = {}): Promise<ExecResult> {
  const docker = dockerClient();
  const exec = await docker.getContainer(container).exec({
    Cmd: cmd,
    AttachStdout: true,
    AttachStderr: true,
    ...(options.user ? { User: options.user } : {}),
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (chunk: Buffer) => out.push(chunk));
  const stderr = new PassThrough().on('data', (chunk: Buffer) => err.push(chunk));
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`exec ${cmd.join(' ')} in ${container} did not finish within ${EXEC_TIMEOUT_MS} ms`));
    }, EXEC_TIMEOUT_MS);
    stream.on('end', () => (clearTimeout(timer), resolve()));
    stream.on('close', () => (clearTimeout(timer), resolve()));
    stream.on('error', (error) => (clearTimeout(timer), reject(error)));
  });
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** One field of /proc/<pid>/status inside the container, e.g. CapEff or Uid. */
export async function procStatus(container: string, pid: 'self' | '1', field: string): Promise<string> {
  const { stdout } = await execIn(container, ['/bin/cat', `/proc/${pid}/status`]);
  const line = stdout.split('\n').find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`no ${field} in /proc/${pid}/status of ${container}`);
  return line.slice(field.length + 1).trim();
}
