// Loopback ports for servers a test starts (Spawner, Traefik, docker-compose's published ports).
import { createServer } from 'node:net';

/** A free loopback port (there is a small window in which another process could take it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
