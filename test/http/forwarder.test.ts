// The wake forwarder against hostile services and hostile clients, over real sockets: a service
// that answers with a status Node cannot write must not take Spawner down, and a bodied GET must
// reach the service as one framed request, never as two (request smuggling).
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, connect, type AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { forwardToService } from '../../src/lifecycle/proxy.js';
import { errorHandler } from '../../src/middleware/errors.js';

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

function listen<T extends Server | ReturnType<typeof createTcpServer>>(server: T): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A Spawner stand-in: forwards every request to the service at `port`, as the wake handler does. */
async function forwarder(port: number): Promise<number> {
  const app = express();
  app.use((req, res, next) => forwardToService(req, res, next, { host: '127.0.0.1', port }, {}));
  app.use(errorHandler);
  return listen(createHttpServer(app));
}

/** Sends raw bytes and resolves with everything the server answered before it closed (or 2 s). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

/** A service that answers every connection with the given status line, then closes. */
async function serviceAnswering(statusLine: string): Promise<number> {
  return listen(
    createTcpServer((socket) => {
      socket.once('data', () => socket.end(`${statusLine}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok`));
      socket.on('error', () => undefined);
    }),
  );
}

describe('wake forwarder', () => {
  for (const status of ['000', '099', '101']) {
    it(`when the service answers with status ${status}, then the client gets 502 and the forwarder keeps serving`, async () => {
      const port = await forwarder(await serviceAnswering(`HTTP/1.1 ${status} Odd`));
      const first = await fetch(`http://127.0.0.1:${port}/`);
      expect(first.status).toBe(502);
      await first.body?.cancel();
      // The same process answers again: nothing threw out of a socket callback.
      const second = await fetch(`http://127.0.0.1:${port}/again`);
      expect(second.status).toBe(502);
      await second.body?.cancel();
    });
  }

  it('when the service answers with a normal status, then status, headers and body come through', async () => {
    const port = await forwarder(await serviceAnswering('HTTP/1.1 418 Teapot'));
    const answer = await fetch(`http://127.0.0.1:${port}/`);
    expect(answer.status).toBe(418);
    expect(await answer.text()).toBe('ok');
  });

  for (const method of ['GET', 'HEAD', 'DELETE', 'OPTIONS']) {
    it(`when a ${method} carries a chunked body that looks like a second request, then the service sees one framed request`, async () => {
      const seen: { method: string; url: string; body: string }[] = [];
      const service = createHttpServer((req: IncomingMessage, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          seen.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('latin1') });
          res.end('seen');
        });
      });
      const port = await forwarder(await listen(service));
      const smuggled = 'GET /admin-secret HTTP/1.1\r\nHost: victim\r\n\r\n';
      const request =
        `${method} /innocent HTTP/1.1\r\nHost: alice.apps.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
      const answer = await raw(port, request);
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(seen.map((r) => r.url)).toEqual(['/innocent']);
      expect(seen[0]?.method).toBe(method);
      expect(seen[0]?.body).toBe(smuggled);
    });
  }
});
