// Whether a container is still in use right now although no request has finished lately: an
// open websocket, SSE stream or long download. Traefik's metrics count a request only when it
// ends and v3 has no per-service open-connection gauge, so Spawner looks at the container itself,
// but only for containers that are about to be stopped (never one call per person per sweep).
// This is the backend-neutral part: reading the kernel's table, which any backend that can run a
// command in the workload hands over (containers/docker/connectionProbe.ts does).

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
