// Reads Traefik's Prometheus metrics and returns, per service, how many requests it has answered.
// One scrape per sweep, whatever the number of people. A counter that moved since the last
// scrape means the service was used.
const REQUESTS = 'traefik_service_requests_total';

/** Sums traefik_service_requests_total over all label sets, per service (e.g. user-alice-7@docker). */
export function parseServiceRequestCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(REQUESTS + '{')) continue;
    const service = /[{,]service="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!service || !Number.isFinite(value)) continue;
    counts.set(service, (counts.get(service) ?? 0) + value);
  }
  return counts;
}

export interface RequestCounter {
  /** Request counts per Traefik service name (without the @provider suffix). */
  read(): Promise<Map<string, number>>;
}

export class TraefikMetrics implements RequestCounter {
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 3000,
  ) {}

  async read(): Promise<Map<string, number>> {
    const response = await fetch(this.url, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok) throw new Error(`Traefik metrics answered ${response.status}`);
    const byService = new Map<string, number>();
    for (const [service, count] of parseServiceRequestCounts(await response.text())) {
      const name = service.replace(/@[a-z0-9-]+$/, '');
      byService.set(name, (byService.get(name) ?? 0) + count);
    }
    return byService;
  }
}
