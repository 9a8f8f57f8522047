// Whether a container is still in use although no request finished lately (an open websocket, SSE
// stream or long download): its ESTABLISHED connections on the service port, read from
// /proc/net/tcp with a short exec, then its network byte counters. Only for containers about to be
// stopped or paused, never one call per person per sweep.
import type { InUse } from '../backend.js';
import { countEstablished } from '../../lifecycle/connections.js';
import type { DockerEngine } from './engine.js';

/** A few hundred bytes of ARP and neighbour discovery are not use. */
const BYTES_THAT_ARE_USE = 2048;

export class ConnectionProbe {
  private readonly bytesSeen = new Map<string, number>();

  constructor(private readonly engine: Pick<DockerEngine, 'exec' | 'networkBytes'>) {}

  /**
   * 'in-use' when the service holds a client connection or moved network bytes since the last
   * look; 'quiet' when neither (and the look is forgotten, so a restarted container starts over);
   * 'unknown' when this is the first look (the caller waits a sweep).
   */
  async check(containerId: string, port: number): Promise<InUse> {
    const connections = await this.openConnections(containerId, port);
    if (connections !== null && connections > 0) return 'in-use';
    const bytes = await this.engine.networkBytes(containerId).catch(() => null);
    const before = this.bytesSeen.get(containerId);
    if (bytes !== null) this.bytesSeen.set(containerId, bytes);
    let use: InUse;
    if (bytes === null || before === undefined) use = connections === 0 && bytes === null ? 'quiet' : 'unknown';
    else use = bytes - before > BYTES_THAT_ARE_USE ? 'in-use' : 'quiet';
    if (use === 'quiet') this.bytesSeen.delete(containerId);
    return use;
  }

  private async openConnections(containerId: string, port: number): Promise<number | null> {
    try {
      const result = await this.engine.exec(containerId, ['cat', '/proc/net/tcp', '/proc/net/tcp6'], 3000);
      if (result.exitCode !== 0 && !result.output.includes('local_address')) return null;
      return countEstablished(result.output, port);
    } catch {
      // Images without `cat` (distroless, scratch): fall back to the byte counters.
      return null;
    }
  }
}
