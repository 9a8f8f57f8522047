// Container hardening on the real engine (issue 5, point 6): every setting is read back with
// docker inspect, and then looked at from inside the container (who the process is, which
// capabilities it holds, what it may write), so a setting Docker accepted but did not apply shows.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { containerLogs, createTestNetwork, dockerClient, removeTestResources, scopeLabels } from '../helpers/docker.js';
import { execIn, procStatus } from '../helpers/exec.js';

const runId = inject('runId');
const docker = dockerClient();
const FILE = 'hardening';
/** The test template with `USER 0`: an image whose default user is root. */
const ROOT_IMAGE = 'spawner-test-template:root-default';
const NO_CAPS = '0000000000000000';
const apps: TestApp[] = [];
const spawned: string[] = [];
let network: string;

function app(env: Record<string, string>): TestApp {
  const t = buildTestApp({
    runId,
    env: { TRAEFIK_NETWORK: network, USER_TEMPLATE_IMAGE: ROOT_IMAGE, CONTAINER_EXTRA_LABELS: scopeLabels(runId, FILE), ...env },
  });
  apps.push(t);
  return t;
}

/** Creates a person and brings their container up the way signup does; returns its name. */
async function spawn(t: TestApp, username: string): Promise<string> {
  const user = await t.services.users.create({ username, email: `${username}@example.com`, passwordHash: 'x' });
  const status = await t.services.containers.ensureRunning(user);
  spawned.push(status.name);
  if (status.state !== 'running')
    throw new Error(`${status.name} is ${status.state}: ${status.detail}\n${await containerLogs(status.name)}`);
  return status.name;
}

/** Runs a shell line in the container; the result says whether it worked and what it printed. */
const sh = (name: string, line: string, user?: string) => execIn(name, ['/bin/sh', '-c', line], user ? { user } : {});

beforeAll(async () => {
  network = await createTestNetwork(runId, `spawner-test-${runId}-${FILE}`);
  execFileSync('docker', ['build', '-q', '-t', ROOT_IMAGE, join(import.meta.dirname, '..', 'fixtures', 'root-image')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
});

afterEach(async (context) => {
  if (context.task.result?.state !== 'fail') return;
  for (const name of spawned) console.error(`--- logs of ${name}\n${await containerLogs(name)}`);
});

afterAll(async () => {
  for (const t of apps) await t.close();
  await removeTestResources(runId, FILE);
});

describe('with the default configuration and an image whose default user is root', () => {
  let t: TestApp;
  let name: string;

  beforeAll(async () => {
    t = app({});
    name = await spawn(t, 'rooty');
  });

  it('when the container is inspected, then all capabilities are dropped, nothing is added back, privileges cannot grow and it is not privileged', async () => {
    const image = await docker.getImage(ROOT_IMAGE).inspect();
    expect(image.Config.User).toBe('0');
    const { HostConfig: host } = await docker.getContainer(name).inspect();
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd ?? []).toEqual([]);
    expect(host.SecurityOpt).toEqual(['no-new-privileges:true']);
    expect(host.Privileged).toBe(false);
  });

  it('when the container is inspected, then PID, memory (without extra swap) and CPU limits and log rotation are set from config', async () => {
    const { HostConfig: host } = await docker.getContainer(name).inspect();
    expect(host.PidsLimit).toBe(256);
    expect(host.Memory).toBe(512 * 1024 * 1024);
    expect(host.MemorySwap).toBe(512 * 1024 * 1024);
    expect(host.CpuQuota).toBe(50_000);
    expect(host.CpuPeriod).toBe(100_000);
    expect(host.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
  });

  it('when the container is inspected, then the only mount is its own named volume at /data: no host path, no bind', async () => {
    const info = await docker.getContainer(name).inspect();
    expect(info.HostConfig.Binds ?? []).toEqual([]);
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: `${name}-data`, Destination: '/data', RW: true })]);
    expect(info.HostConfig.ReadonlyRootfs).toBe(false);
    expect(info.HostConfig.Tmpfs ?? {}).toEqual({});
  });

  it('when looked at from inside, then the process runs as 1000:1000 (not the image’s root) with no capabilities at all', async () => {
    expect((await docker.getContainer(name).inspect()).Config.User).toBe('1000:1000');
    expect((await sh(name, 'id -u; id -g')).stdout).toBe('1000\n1000\n');
    // PID 1 is the init process Docker starts for the container; a command exec'd later must be no different.
    expect(await procStatus(name, '1', 'Uid')).toBe('1000\t1000\t1000\t1000');
    for (const pid of ['1', 'self'] as const) {
      expect(await procStatus(name, pid, 'CapEff')).toBe(NO_CAPS);
      expect(await procStatus(name, pid, 'CapPrm')).toBe(NO_CAPS);
      expect(await procStatus(name, pid, 'CapBnd')).toBe(NO_CAPS);
      expect(await procStatus(name, pid, 'NoNewPrivs')).toBe('1');
    }
  });

  it('when looked at from inside, then the kernel enforces the PID, memory and CPU limits', async () => {
    const read = async (file: string) => (await sh(name, `cat /sys/fs/cgroup/${file}`)).stdout.trim();
    expect(await read('pids/pids.max')).toBe('256');
    expect(await read('memory/memory.limit_in_bytes')).toBe(String(512 * 1024 * 1024));
    expect(await read('cpu/cpu.cfs_quota_us')).toBe('50000');
  });

  it('when the root filesystem is writable (the default), then the person can write their own folders outside /tmp and /data', async () => {
    // The control for the read-only tests below: the same writes succeed here.
    expect(await sh(name, 'echo x > /home/app/file')).toMatchObject({ exitCode: 0 });
    expect(await sh(name, 'echo x > /data/file && echo x > /tmp/file')).toMatchObject({ exitCode: 0 });
  });
});

describe('with a configured user, add-back capabilities and limits', () => {
  let name: string;

  beforeAll(async () => {
    const t = app({
      CONTAINER_USER: '2000:2000',
      CONTAINER_CAP_ADD: 'NET_BIND_SERVICE',
      CONTAINER_PIDS_LIMIT: '100',
      DEFAULT_MEMORY_LIMIT: '256m',
      DEFAULT_CPU_QUOTA: '25000',
      CONTAINER_LOG_MAX_SIZE: '5m',
      CONTAINER_LOG_MAX_FILE: '2',
    });
    name = await spawn(t, 'configured');
  });

  it('when CONTAINER_USER=2000:2000, then the container and every process in it run as 2000:2000', async () => {
    expect((await docker.getContainer(name).inspect()).Config.User).toBe('2000:2000');
    expect((await sh(name, 'id -u; id -g')).stdout).toBe('2000\n2000\n');
    expect(await procStatus(name, '1', 'Uid')).toBe('2000\t2000\t2000\t2000');
  });

  it('when a capability is added back, then only that one is in the bounding set and still none is effective for the non-root user', async () => {
    const { HostConfig: host } = await docker.getContainer(name).inspect();
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toEqual(['NET_BIND_SERVICE']);
    // CAP_NET_BIND_SERVICE is bit 10.
    expect(await procStatus(name, 'self', 'CapBnd')).toBe('0000000000000400');
    expect(await procStatus(name, 'self', 'CapEff')).toBe(NO_CAPS);
  });

  it('when limits are configured, then inspect and the kernel show the configured values', async () => {
    const { HostConfig: host } = await docker.getContainer(name).inspect();
    expect(host.PidsLimit).toBe(100);
    expect(host.Memory).toBe(256 * 1024 * 1024);
    expect(host.MemorySwap).toBe(256 * 1024 * 1024);
    expect(host.CpuQuota).toBe(25_000);
    expect(host.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '5m', 'max-file': '2' } });
    expect((await sh(name, 'cat /sys/fs/cgroup/pids/pids.max')).stdout.trim()).toBe('100');
  });
});

describe('with a read-only root filesystem', () => {
  let name: string;
  const TMPFS_BYTES = 2 * 1024 * 1024;

  beforeAll(async () => {
    const t = app({ CONTAINER_READ_ONLY: 'true', CONTAINER_TMPFS_SIZE: '2m' });
    name = await spawn(t, 'readonly');
  });

  it('when the container is inspected, then the root filesystem is read-only and /tmp is a size-limited tmpfs', async () => {
    const info = await docker.getContainer(name).inspect();
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.Tmpfs).toEqual({ '/tmp': `rw,nosuid,nodev,size=${TMPFS_BYTES}` });
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Destination: '/data', RW: true })]);
    expect(info.State.Running).toBe(true);
  });

  it('when a process writes to /, /etc or its own home folder, then the kernel refuses with "Read-only file system"', async () => {
    for (const path of ['/file', '/etc/file', '/home/app/file']) {
      const result = await sh(name, `echo x > ${path}`);
      expect(result.exitCode, path).not.toBe(0);
      expect(result.stderr, path).toContain('Read-only file system');
    }
    // Not even root could: the filesystem itself is read-only, whatever the permissions.
    const asRoot = await sh(name, 'echo x > /etc/file', '0');
    expect(asRoot.stderr).toContain('Read-only file system');
    expect((await sh(name, 'ls /etc/file /home/app/file 2>&1; true')).stdout).not.toMatch(/^\/(etc|home)/m);
  });

  it('when a process writes to /tmp and to its data volume, then that works', async () => {
    expect(await sh(name, 'echo tmp > /tmp/file && cat /tmp/file')).toMatchObject({ exitCode: 0, stdout: 'tmp\n' });
    expect(await sh(name, 'echo data > /data/file && cat /data/file')).toMatchObject({ exitCode: 0, stdout: 'data\n' });
  });

  it('when a process writes more than CONTAINER_TMPFS_SIZE to /tmp, then the write fails with "No space left on device"', async () => {
    expect((await sh(name, 'grep " /tmp " /proc/mounts')).stdout).toContain('size=2048k');
    expect(await sh(name, 'dd if=/dev/zero of=/tmp/half bs=1024 count=1024 && rm /tmp/half')).toMatchObject({ exitCode: 0 });
    const tooMuch = await sh(name, 'dd if=/dev/zero of=/tmp/big bs=1024 count=3072');
    expect(tooMuch.exitCode).not.toBe(0);
    expect(tooMuch.stderr).toContain('No space left on device');
    const written = Number((await sh(name, 'wc -c < /tmp/big; rm -f /tmp/big')).stdout.trim());
    expect(written).toBeLessThanOrEqual(TMPFS_BYTES);
  });
});
