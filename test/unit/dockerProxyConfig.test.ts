// The Docker proxy's own settings: defaults, the mirrors of Spawner's settings, and every bad value
// reported at once.
import { describe, expect, it } from 'vitest';
import { loadProxyConfig, ProxyConfigError } from '../../src/dockerProxy/config.js';

describe('loadProxyConfig', () => {
  it('when nothing is set, then it listens on loopback, speaks to the default socket and allows the probe exec', () => {
    expect(loadProxyConfig({})).toEqual({
      listen: { host: '127.0.0.1', port: 2375 },
      socketPath: '/var/run/docker.sock',
      rules: { allowExec: true, capAdd: [], namePrefix: 'user' },
      maxBodyBytes: 1024 * 1024,
      logLevel: 'info',
    });
  });

  it('when the settings are given, then they are read and normalised (unix:// socket, CAP_ prefix, ALL dropped)', () => {
    const config = loadProxyConfig({
      DOCKER_PROXY_LISTEN: '[::1]:2376',
      DOCKER_PROXY_SOCKET: 'unix:///run/user/1000/docker.sock',
      DOCKER_PROXY_ALLOW_EXEC: 'false',
      DOCKER_PROXY_CAP_ADD: 'cap_net_bind_service, ALL',
      DOCKER_PROXY_NAME_PREFIX: 'lab',
      DOCKER_PROXY_MAX_BODY: '64k',
    });
    expect(config.listen).toEqual({ host: '::1', port: 2376 });
    expect(config.socketPath).toBe('/run/user/1000/docker.sock');
    expect(config.rules).toEqual({ allowExec: false, capAdd: ['NET_BIND_SERVICE'], namePrefix: 'lab' });
    expect(config.maxBodyBytes).toBe(64 * 1024);
  });

  it('when it is to listen on a unix socket, then the path is kept (Spawner on the host network reaches it through a shared volume)', () => {
    expect(loadProxyConfig({ DOCKER_PROXY_LISTEN: 'unix:///run/spawner-docker-proxy/docker.sock' }).listen).toEqual({
      path: '/run/spawner-docker-proxy/docker.sock',
    });
    expect(() => loadProxyConfig({ DOCKER_PROXY_LISTEN: 'unix://relative.sock' })).toThrow(/DOCKER_PROXY_LISTEN/);
  });

  it('when values are bad, then every problem is named in one error', () => {
    const attempt = () =>
      loadProxyConfig({ DOCKER_PROXY_LISTEN: 'nowhere', DOCKER_PROXY_ALLOW_EXEC: 'maybe', DOCKER_PROXY_NAME_PREFIX: 'Bad_Prefix' });
    expect(attempt).toThrow(ProxyConfigError);
    try {
      attempt();
    } catch (error) {
      expect((error as ProxyConfigError).problems.map((p) => p.split(':')[0])).toEqual([
        'DOCKER_PROXY_LISTEN',
        'DOCKER_PROXY_ALLOW_EXEC',
        'DOCKER_PROXY_NAME_PREFIX',
      ]);
    }
  });
});
