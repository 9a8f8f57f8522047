// A Spawner app listening on a loopback port (as Traefik's backend), and the routes to it that
// mirror Spawner's own docker-compose labels, as Traefik file-provider configuration: its routers
// and the access check `<name>-auth` (give that Spawner TRAEFIK_AUTH_MIDDLEWARE=<name>-auth@file).
import { createServer, type Server } from 'node:http';
import { buildTestApp, type TestApp } from './app.js';

export interface RunningSpawner extends TestApp {
  port: number;
  server: Server;
  stop(): Promise<void>;
}

export async function startSpawner(options: Parameters<typeof buildTestApp>[0] & { port: number }): Promise<RunningSpawner> {
  const t = buildTestApp(options);
  const server = createServer(t.app);
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    ...t,
    port: options.port,
    server,
    async stop() {
      await t.services.sweeper.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await t.close();
    },
  };
}

/** Spawner's own routers, as docker-compose.yml labels them, pointing at a host port. */
export function spawnerRoutes(name: string, domain: string, port: number, subdomain = 'spawner') {
  const escaped = domain.replace(/\./g, '\\.');
  return {
    routers: {
      [name]: { rule: `Host(\`${subdomain}.${domain}\`) || Host(\`${domain}\`)`, priority: 2, entryPoints: ['web'], service: name },
      [`${name}-wake`]: { rule: `HostRegexp(\`^[a-z0-9-]+\\.${escaped}$\`)`, priority: 1, entryPoints: ['web'], service: name },
    },
    services: { [name]: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } } },
    middlewares: {
      [`${name}-auth`]: {
        forwardAuth: {
          address: `http://127.0.0.1:${port}/.spawner/verify`,
          trustForwardHeader: true,
          authResponseHeaders: ['Cookie', 'X-Spawner-User'],
        },
      },
    },
  };
}
