import { describe, expect, it } from 'vitest';
import { parseServiceRequestCounts } from '../../src/lifecycle/traefikMetrics.js';
import { countEstablished } from '../../src/lifecycle/connections.js';
import { ActivityTracker } from '../../src/lifecycle/activity.js';

describe('parseServiceRequestCounts', () => {
  it('sums every label set per service and ignores other metrics', () => {
    const text = [
      '# HELP traefik_service_requests_total How many HTTP requests processed on a service, partitioned by status code, protocol, and method.',
      '# TYPE traefik_service_requests_total counter',
      'traefik_service_requests_total{code="200",method="GET",protocol="http",service="user-alice-7@docker"} 12',
      'traefik_service_requests_total{code="404",method="GET",protocol="http",service="user-alice-7@docker"} 3',
      'traefik_service_requests_total{code="200",method="GET",protocol="websocket",service="user-bob-8@docker"} 1',
      'traefik_service_request_duration_seconds_count{code="200",method="GET",protocol="http",service="user-alice-7@docker"} 15',
      'traefik_entrypoint_requests_total{code="200",entrypoint="web",method="GET",protocol="http"} 99',
    ].join('\n');
    expect(parseServiceRequestCounts(text)).toEqual(
      new Map([
        ['user-alice-7@docker', 15],
        ['user-bob-8@docker', 1],
      ]),
    );
  });
});

describe('countEstablished', () => {
  // Real /proc/net/tcp lines: 172.20.0.3:8080 (1F90) from 172.20.0.1 (Traefik), a listening socket,
  // a loopback health check, and an established connection on another port.
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 100 0 0 10 0',
    '   1: 030014AC:1F90 010014AC:B21C 01 00000000:00000000 00:00000000 00000000  1000        0 2 1 0 20 4 30 10 -1',
    '   2: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0 20 4 30 10 -1',
    '   3: 030014AC:D431 010014AC:0050 01 00000000:00000000 00:00000000 00000000  1000        0 4 1 0 20 4 30 10 -1',
  ].join('\n');

  it('counts client connections to the service port only', () => {
    expect(countEstablished(table, 8080)).toBe(1);
    expect(countEstablished(table, 9090)).toBe(0);
  });
});

describe('ActivityTracker', () => {
  it('keeps the latest time per person and flushes only what changed, in one batch', async () => {
    let now = 1_000;
    const tracker = new ActivityTracker(() => now);
    const batches: { id: number; at: Date }[][] = [];
    const users = { recordActivity: async (batch: { id: number; at: Date }[]) => void batches.push(batch) };
    tracker.touch(1);
    now = 2_000;
    tracker.touch(1);
    tracker.touch(2, 500);
    tracker.touch(2, 400); // older: ignored
    expect(tracker.lastActivity(1)).toBe(2_000);
    expect(tracker.lastActivity(2)).toBe(500);
    expect(await tracker.flush(users)).toBe(2);
    expect(await tracker.flush(users)).toBe(0);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toEqual([
      { id: 1, at: new Date(2_000) },
      { id: 2, at: new Date(500) },
    ]);
  });
});
