// Spawner's Docker API proxy: an HTTP server on TCP that lets through only the calls and bodies the
// policy allows, to the Docker socket. Request bodies are read whole (bounded) and checked before
// anything reaches Docker; answers stream back as Docker sends them (logs, events, image load
// progress), and exec start's HTTP upgrade is joined to Docker's hijacked stream (hijack.ts).
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';
import { routeRequest, type ProxyRules } from './policy.js';
import { BadBody, hasBody, readBody } from './requestBody.js';
import { checkRequest, errorBody, passOnHeaders, pathOf, upstreamHeaders } from './exchange.js';
import { handleUpgrade } from './hijack.js';

export interface DockerProxyOptions {
  rules: ProxyRules;
  socketPath: string;
  /** Largest request body (create specs, image archives). */
  maxBodyBytes: number;
  logger: Logger;
}

function answer(res: ServerResponse, status: number, reason: string): void {
  const body = errorBody(reason);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

export function createDockerProxy(options: DockerProxyOptions): Server {
  const { rules, socketPath, maxBodyBytes, logger } = options;
  // One pool of connections to the socket; long streams (events, logs) hold theirs.
  const agent = new Agent({ keepAlive: true });

  const refuse = (method: string | undefined, url: string | undefined, reason: string) =>
    logger.warn({ method, path: pathOf(url), reason }, 'refused a Docker API request');

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const route = routeRequest(req.method ?? '', req.url ?? '', rules);
    let raw: Buffer | undefined;
    try {
      if (route.allowed && route.body !== 'none') raw = await readBody(req, maxBodyBytes);
      else if (hasBody(req.headers)) raw = await readBody(req, maxBodyBytes);
      else req.resume();
    } catch (error) {
      const reason = error instanceof BadBody ? error.message : 'the body could not be read';
      refuse(req.method, req.url, reason);
      return answer(res, 400, reason);
    }
    const checked = checkRequest(req, raw, rules);
    if (!checked.ok) {
      refuse(req.method, req.url, checked.reason);
      return answer(res, checked.status, checked.reason);
    }
    logger.debug({ method: req.method, path: pathOf(req.url) }, 'Docker API request');
    const upstream = httpRequest(
      { socketPath, agent, method: req.method, path: checked.upstreamUrl, headers: upstreamHeaders(req, checked.body) },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, passOnHeaders(reply.headers));
        // Streams (events, logs with follow) send headers long before their first line.
        res.flushHeaders();
        reply.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      logger.warn({ err: error, method: req.method, path: pathOf(req.url) }, 'the Docker socket did not answer');
      if (!res.headersSent) answer(res, 502, `the Docker engine is not reachable: ${error.message}`);
      else res.destroy();
    });
    // The client went away (a log or event stream closed): stop asking Docker.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(checked.body);
  };

  const server = createServer((req, res) => void onRequest(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
    handleUpgrade({ req, socket, head, rules, socketPath, maxBodyBytes, logger, refuse }),
  );
  server.on('close', () => agent.destroy());
  return server;
}
