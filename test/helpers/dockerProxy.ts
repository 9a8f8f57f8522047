// A loopback TCP proxy in front of the real Docker socket that a test can cut and restore, to
// show how Spawner behaves while Docker is unreachable and after it comes back. "hang" mode
// accepts connections and never answers, like an engine that is stuck.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class DockerProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private mode: 'forward' | 'hang' = 'forward';
  port = 0;

  async start(mode: 'forward' | 'hang' = 'forward'): Promise<void> {
    this.mode = mode;
    const server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => undefined);
      if (this.mode === 'hang') return;
      const upstream = createConnection('/var/run/docker.sock');
      this.sockets.add(upstream);
      upstream.on('close', () => this.sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.server = server;
  }

  /** Closes the listener and every open connection: Docker is gone. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }
}
