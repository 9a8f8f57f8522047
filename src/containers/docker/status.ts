// Reads Docker's answers as the port's words: an inspect becomes a WorkloadStatus (what the
// person sees and what the manager acts on) or a readiness snapshot, a list entry a ManagedWorkload.
import type { HealthReading, ManagedWorkload, ReadinessSnapshot, WorkloadPhase, WorkloadStatus } from '../backend.js';
import { SPEC_HASH_LABEL, USER_ID_LABEL, USERNAME_LABEL } from '../labels.js';
import type { ContainerInspect, ContainerSummary } from './engine.js';
import { runningState } from '../runningState.js';

function phaseOf(state: ContainerInspect['State']): WorkloadPhase {
  if (state.Paused) return 'paused';
  if (state.Restarting) return 'restarting';
  if (state.Running) return 'running';
  return state.Status === 'created' ? 'created' : 'exited';
}

function withHash(status: Omit<WorkloadStatus, 'specHash'>, info: ContainerInspect): WorkloadStatus {
  const hash = info.Config?.Labels?.[SPEC_HASH_LABEL];
  return hash ? { ...status, specHash: hash } : status;
}

export function statusFromInspect(info: ContainerInspect): WorkloadStatus {
  const name = info.Name.replace(/^\//, '');
  const state = info.State;
  const phase = phaseOf(state);
  const base = { name, id: info.Id, phase };
  const startedAt = state.StartedAt && !state.StartedAt.startsWith('0001') ? new Date(state.StartedAt) : undefined;
  const since = startedAt ? { startedAt } : {};
  if (state.Paused)
    return withHash({ ...base, state: 'paused', detail: 'Paused to save resources; it wakes on the next visit.', ...since }, info);
  if (state.Restarting) return withHash({ ...base, state: 'starting', detail: 'Restarting after it stopped unexpectedly.' }, info);
  if (state.Running) return withHash({ ...base, ...runningState(healthOf(state.Health?.Status)), ...since }, info);
  if (state.Status === 'created') return withHash({ ...base, state: 'stopped', detail: 'Created but not started.' }, info);
  if (state.OOMKilled) return withHash({ ...base, state: 'stopped', detail: 'Stopped: it ran out of memory.' }, info);
  const exit = state.ExitCode;
  const detail = state.Error
    ? `Stopped: ${state.Error}`
    : exit && exit !== 0 && exit !== 143 && exit !== 137
      ? `Stopped with exit code ${exit}.`
      : 'Stopped.';
  return withHash({ ...base, state: 'stopped', detail }, info);
}

function healthOf(status: string | undefined): HealthReading {
  return status === 'healthy' || status === 'unhealthy' || status === 'starting' ? status : 'none';
}

/** The service port from the workload's own Traefik label (the plan's port), else its first exposed port. */
function servicePort(info: ContainerInspect, name: string): number | null {
  const label = info.Config?.Labels?.[`traefik.http.services.${name}.loadbalancer.server.port`];
  const exposed = Object.keys(info.Config?.ExposedPorts ?? {})[0]?.split('/')[0];
  const port = Number(label ?? exposed);
  return Number.isInteger(port) && port > 0 ? port : null;
}

export function readinessFromInspect(info: ContainerInspect, network: string): ReadinessSnapshot {
  const name = info.Name.replace(/^\//, '');
  const host = info.NetworkSettings?.Networks?.[network]?.IPAddress;
  const port = servicePort(info, name);
  return {
    phase: phaseOf(info.State),
    health: healthOf(info.State.Health?.Status),
    address: host && port ? { host, port } : null,
    exitCode: info.State.ExitCode,
  };
}

const LIST_PHASES: Record<string, WorkloadPhase> = { running: 'running', paused: 'paused', restarting: 'restarting', created: 'created' };

export function workloadFromSummary(summary: ContainerSummary): ManagedWorkload {
  const labels = summary.Labels ?? {};
  const userId = Number(labels[USER_ID_LABEL]);
  const hash = labels[SPEC_HASH_LABEL];
  return {
    id: summary.Id,
    name: (summary.Names?.[0] ?? '').replace(/^\//, ''),
    userId: labels[USER_ID_LABEL] !== undefined && Number.isSafeInteger(userId) ? userId : null,
    username: labels[USERNAME_LABEL] || null,
    state: LIST_PHASES[summary.State] ?? 'exited',
    ...(hash ? { specHash: hash } : {}),
  };
}
