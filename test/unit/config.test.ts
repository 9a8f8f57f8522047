import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('when nothing is set, then the seed defaults apply', () => {
    const config = loadConfig({});
    expect(config.baseDomain).toBe('localhost');
    expect(config.spawnerHost).toBe('spawner.localhost');
    expect(config.routingMode).toBe('subdomain');
    expect(config.basePath).toBe('');
    expect(config.traefik).toEqual({ network: 'web', entrypoint: 'web', tlsEntrypoint: 'websecure', certResolver: undefined });
    expect(config.containers.image).toBe('user-service-template:latest');
    expect(config.containers.port).toBe(8080);
    expect(config.containers.memoryBytes).toBe(512 * 1024 * 1024);
    expect(config.containers.cpuQuota).toBe(50000);
    expect(config.containers.cpuPeriod).toBe(100000);
    expect(config.containers.idleTimeoutMs).toBe(3600 * 1000);
    expect(config.http.port).toBe(5000);
    expect(config.databasePath).toBe('data/spawner.db');
    expect(config.bcryptCost).toBe(12);
    expect(config.docker.socketPath).toBe('/var/run/docker.sock');
    expect(config.publicScheme).toBe('http');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.containers)).toBe(true);
  });

  it('when values are given, then units are converted', () => {
    const config = loadConfig({
      BASE_DOMAIN: 'coder.example.org',
      ROUTING_MODE: 'path',
      DEFAULT_MEMORY_LIMIT: '1g',
      CONTAINER_IDLE_TIMEOUT: '30m',
      DOCKER_SOCKET: 'unix://var/run/other.sock',
      DOCKER_HOST: 'tcp://127.0.0.1:2375',
      TRAEFIK_CERTRESOLVER: 'letsencrypt',
      CONTAINER_EXTRA_LABELS: 'team=blue, tier=dev',
      CONTAINER_CAP_ADD: 'NET_BIND_SERVICE',
    });
    expect(config.basePath).toBe('/hub');
    expect(config.containers.memoryBytes).toBe(1024 ** 3);
    expect(config.containers.idleTimeoutMs).toBe(30 * 60 * 1000);
    expect(config.docker.socketPath).toBe('/var/run/other.sock');
    expect(config.docker.host).toBe('tcp://127.0.0.1:2375');
    expect(config.publicScheme).toBe('https');
    expect(config.containers.extraLabels).toEqual({ team: 'blue', tier: 'dev' });
    expect(config.containers.capAdd).toEqual(['NET_BIND_SERVICE']);
  });

  it('when several values are bad, then all of them are reported in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        BASE_DOMAIN: 'Bad Domain!',
        SPAWNER_PORT: 'eighty',
        ROUTING_MODE: 'sideways',
        DEFAULT_MEMORY_LIMIT: 'lots',
        BCRYPT_COST: '99',
        CONTAINER_EXTRA_LABELS: 'traefik.enable=false',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['BASE_DOMAIN', 'SPAWNER_PORT', 'ROUTING_MODE', 'DEFAULT_MEMORY_LIMIT', 'BCRYPT_COST', 'CONTAINER_EXTRA_LABELS']) {
      expect(problems).toContain(name);
    }
    expect((error as Error).message).toMatch(/^Invalid configuration:\n {2}- /);
  });

  it('when production has no secret or the placeholder, then it refuses to start', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SECRET_KEY/);
    expect(() => loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'change-me' })).toThrow(/SECRET_KEY/);
    expect(() => loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'short' })).toThrow(/at least 32/);
    expect(loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'a'.repeat(40) }).secretKey).toBe('a'.repeat(40));
  });

  it('when development has no secret, then config leaves it to be generated', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).secretKey).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'development', SECRET_KEY: 'change-me' }).secretKey).toBeUndefined();
  });

  it('when DATABASE_URL is unset, then SQLite at DATABASE_PATH is used; when it is a postgres URL, then it is kept', () => {
    expect(loadConfig({}).databaseUrl).toBeUndefined();
    expect(loadConfig({ DATABASE_URL: ' ' }).databaseUrl).toBeUndefined();
    expect(loadConfig({ DATABASE_URL: 'postgres://spawner:pw@db:5432/spawner' }).databaseUrl).toBe('postgres://spawner:pw@db:5432/spawner');
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/spawner' }).databaseUrl).toBe('postgresql://db/spawner');
  });

  it('when DATABASE_URL is not a postgres URL, then the error says so without repeating its password', () => {
    for (const url of ['mysql://root:hunter2@db/spawner', 'sqlite:data/x.db', 'db:5432']) {
      let error: unknown;
      try {
        loadConfig({ DATABASE_URL: url });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.join('\n')).toMatch(/DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});
