// What a person is told about a running workload, from what its health check says: one mapping
// for every backend's inspect and for the state cache, which applies a health event directly
// (the report changes, nothing else does) instead of asking the backend again.
import type { ContainerState, HealthReading } from './backend.js';

export function runningState(health: HealthReading): { state: ContainerState; detail?: string } {
  if (health === 'starting') return { state: 'starting', detail: 'Started; waiting for the service to report ready.' };
  if (health === 'unhealthy') return { state: 'error', detail: 'Running, but its health check fails.' };
  return { state: 'running' };
}
