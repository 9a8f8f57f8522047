// An HTTP proxy on loopback in front of the real Docker socket that counts what Spawner asks the
// engine (method and path, without the query), so a test can prove how many Docker calls a page
// or a health check costs. Streams (events, logs) pass through as they come.
import { createServer, request as httpRequest, type Server } from 'node:http';

export class CountingDockerProxy {
  private server: Server | undefined;
  /** Every request seen, as `GET /containers/<name>/json`, in order. */
  readonly calls: string[] = [];
  port = 0;

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.calls.push(`${req.method} ${(req.url ?? '/').split('?')[0]!.replace(/^\/v[\d.]+\//, '/')}`);
      const upstream = httpRequest(
        { socketPath: '/var/run/docker.sock', method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.server = server;
  }

  /** How many requests so far matched `pattern` (e.g. /^GET \/containers\/.+\/json$/). */
  count(pattern: RegExp): number {
    return this.calls.filter((call) => pattern.test(call)).length;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }
}
