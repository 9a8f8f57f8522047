// The health report Traefik, Docker and monitors read: is the database answering, is Docker?
// It never throws and never waits longer than the Docker ping timeout.
import type { DatabaseHealth } from '../db/stores.js';
import type { ContainerBackend } from '../containers/backend.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  checks: { database: 'ok' | 'error'; docker: 'ok' | 'error' };
}

export class HealthService {
  constructor(
    private readonly database: DatabaseHealth,
    private readonly engine: Pick<ContainerBackend, 'ping'>,
    private readonly options: { version: string; dockerTimeoutMs: number },
  ) {}

  async check(): Promise<HealthReport> {
    const [database, docker] = await Promise.all([this.databaseCheck(), this.docker()]);
    return {
      status: database === 'ok' && docker === 'ok' ? 'ok' : 'degraded',
      version: this.options.version,
      checks: { database, docker },
    };
  }

  private async databaseCheck(): Promise<'ok' | 'error'> {
    try {
      await this.database.ping();
      return 'ok';
    } catch {
      return 'error';
    }
  }

  private async docker(): Promise<'ok' | 'error'> {
    try {
      await this.engine.ping(this.options.dockerTimeoutMs);
      return 'ok';
    } catch {
      return 'error';
    }
  }
}
