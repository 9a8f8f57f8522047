// Whether a container is still in use right now although no request has finished lately: an
// open websocket, SSE stream or long download. Traefik's metrics count a request only when it
// ends and v3 has no per-service open-connection gauge, so Spawner looks at the container itself,
// but only for containers that are about to be stopped (never one call per person per sweep).
import type { DockerEngine } from '../containers/engine.js';

const ESTABLISHED = '01';

/** Counts ESTABLISHED TCP connections on `port` from /proc/net/tcp{,6} text, ignoring loopback peers. */
export function countEstablished(procNetTcp: string, port: number): number {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const line of procNetTcp.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const [, local, remote, state] = fields;
    if (!local || !remote || state !== ESTABLISHED) continue;
    if (!local.endsWith(`:${portHex}`)) continue;
    const remoteIp = remote.slice(0, remote.indexOf(':'));
    // 0100007F = 127.0.0.1; the IPv6 loopback and v4-mapped loopback end in the same way.
    if (remoteIp === '0100007F' || remoteIp === '00000000000000000000000001000000' || remoteIp.endsWith('0100007F')) continue;
    count++;
  }
  return count;
}

export type InUse = 'in-use' | 'quiet' | 'unknown';

export class ConnectionProbe {
  private readonly bytesSeen = new Map<string, number>();

  constructor(
    private readonly engine: DockerEngine,
    private readonly port: number,
  ) {}

  /**
   * 'in-use' when the service holds a client connection or moved network bytes since the last
   * look; 'quiet' when neither; 'unknown' when this is the first look (the caller waits a sweep).
   */
  async check(containerId: string): Promise<InUse> {
    const connections = await this.openConnections(containerId);
    if (connections !== null && connections > 0) return 'in-use';
    const bytes = await this.engine.networkBytes(containerId).catch(() => null);
    const before = this.bytesSeen.get(containerId);
    if (bytes !== null) this.bytesSeen.set(containerId, bytes);
    if (bytes === null || before === undefined) return connections === 0 && bytes === null ? 'quiet' : 'unknown';
    // A few hundred bytes of ARP and neighbour discovery are not use.
    return bytes - before > 2048 ? 'in-use' : 'quiet';
  }

  forget(containerId: string): void {
    this.bytesSeen.delete(containerId);
  }

  private async openConnections(containerId: string): Promise<number | null> {
    try {
      const result = await this.engine.exec(containerId, ['cat', '/proc/net/tcp', '/proc/net/tcp6'], 3000);
      if (result.exitCode !== 0 && !result.output.includes('local_address')) return null;
      return countEstablished(result.output, this.port);
    } catch {
      // Images without `cat` (distroless, scratch): fall back to the byte counters.
      return null;
    }
  }
}
