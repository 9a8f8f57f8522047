// The Docker API proxy's own settings, read once from its environment (it is a separate process,
// with none of Spawner's secrets): where it listens, which socket it speaks to, and the few rules an
// operator mirrors from Spawner's .env (CONTAINER_NAME_PREFIX, CONTAINER_CAP_ADD). Nothing else in
// src/dockerProxy/ reads process.env.
import { z } from 'zod';
import { parseByteSize } from '../units.js';
import type { ProxyRules } from './policy.js';

export interface ProxyConfig {
  listen: { host: string; port: number } | { path: string };
  socketPath: string;
  rules: ProxyRules;
  maxBodyBytes: number;
  logLevel: string;
}

const text = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? fallback : v.trim()));

const schema = z.object({
  DOCKER_PROXY_LISTEN: text('127.0.0.1:2375').pipe(
    z
      .string()
      .regex(
        /^((\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}|unix:\/\/\/\S+)$/,
        'must be host:port, e.g. 0.0.0.0:2375, or unix:///path/to/proxy.sock',
      ),
  ),
  DOCKER_PROXY_SOCKET: text('/var/run/docker.sock')
    .transform((v) => (v.startsWith('unix://') ? v.slice('unix://'.length) : v))
    .pipe(z.string().regex(/^\/\S+$/, 'must be an absolute path or unix:///path/to/docker.sock')),
  DOCKER_PROXY_ALLOW_EXEC: text('true').pipe(
    z.enum(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off'], { message: 'must be true or false' }),
  ),
  DOCKER_PROXY_CAP_ADD: text('').pipe(
    z.string().regex(/^([A-Za-z_]{2,32}(\s*,\s*[A-Za-z_]{2,32})*)?$/, 'must be a comma-separated list of capability names'),
  ),
  DOCKER_PROXY_NAME_PREFIX: text('user').pipe(z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label such as user')),
  DOCKER_PROXY_MAX_BODY: text('1m').pipe(
    z
      .string()
      .transform((v) => parseByteSize(v) ?? -1)
      .pipe(z.number().int().min(1024, 'must be a size such as 1m (at least 1k)')),
  ),
  DOCKER_PROXY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export class ProxyConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration of the Docker proxy:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ProxyConfigError';
  }
}

/**
 * host:port, or a unix socket: Spawner on the host's network (docker-compose.yml) reaches the
 * proxy through a socket file on a shared volume, which no other container and no network sees.
 */
function listenAddress(value: string): ProxyConfig['listen'] {
  if (value.startsWith('unix://')) return { path: value.slice('unix://'.length) };
  const at = value.lastIndexOf(':');
  const port = Number(value.slice(at + 1));
  if (port < 1 || port > 65535) throw new ProxyConfigError([`DOCKER_PROXY_LISTEN: port ${port} out of range`]);
  return { host: value.slice(0, at).replace(/^\[|\]$/g, ''), port };
}

export function loadProxyConfig(env: NodeJS.ProcessEnv): Readonly<ProxyConfig> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ProxyConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const e = parsed.data;
  const listen = listenAddress(e.DOCKER_PROXY_LISTEN);
  const capAdd = e.DOCKER_PROXY_CAP_ADD.split(',')
    .map((cap) => cap.trim().toUpperCase().replace(/^CAP_/, ''))
    .filter(Boolean);
  return Object.freeze({
    listen,
    socketPath: e.DOCKER_PROXY_SOCKET,
    rules: Object.freeze({
      allowExec: ['1', 'true', 'yes', 'on'].includes(e.DOCKER_PROXY_ALLOW_EXEC),
      capAdd: Object.freeze(capAdd.filter((cap) => cap !== 'ALL')),
      namePrefix: e.DOCKER_PROXY_NAME_PREFIX,
    }),
    maxBodyBytes: e.DOCKER_PROXY_MAX_BODY,
    logLevel: e.DOCKER_PROXY_LOG_LEVEL,
  });
}
