// The HTTP upgrade of `exec start` (dockerode's hijack): the client asks to turn the connection into
// the exec's raw stream. The request is checked like any other (its body read from the socket Node
// hands over), then sent to Docker with the same upgrade; Docker's 101 and the stream are passed
// back byte for byte, in both directions, until either side closes.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';
import { routeRequest, type ProxyRules } from './policy.js';
import { BadBody, readUpgradeBody } from './requestBody.js';
import { checkRequest, errorBody, passOnHeaders, pathOf, upstreamHeaders } from './exchange.js';

interface UpgradeContext {
  req: IncomingMessage;
  socket: Socket;
  head: Buffer;
  rules: ProxyRules;
  socketPath: string;
  maxBodyBytes: number;
  logger: Logger;
  refuse: (method: string | undefined, url: string | undefined, reason: string) => void;
}

function statusLine(status: number, message: string, headers: Record<string, string | string[]>): string {
  const lines = [`HTTP/1.1 ${status} ${message}`];
  for (const [key, value] of Object.entries(headers)) for (const v of [value].flat()) lines.push(`${key}: ${v}`);
  return `${lines.join('\r\n')}\r\n`;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 502: 'Bad Gateway' };

function rawAnswer(socket: Socket, status: number, reason: string): void {
  const body = errorBody(reason);
  const head = statusLine(status, STATUS_TEXT[status] ?? 'Error', {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  });
  socket.end(`${head}\r\n${body}`);
}

export async function handleUpgrade(context: UpgradeContext): Promise<void> {
  const { req, socket, head, rules, socketPath, maxBodyBytes, logger, refuse } = context;
  socket.on('error', () => socket.destroy());
  const route = routeRequest(req.method ?? '', req.url ?? '', rules);
  if (route.allowed && !route.upgrade) {
    refuse(req.method, req.url, 'this call is not upgraded');
    return rawAnswer(socket, 400, 'this call is not upgraded');
  }
  let body: Buffer;
  let rest: Buffer;
  try {
    ({ body, rest } = await readUpgradeBody(req.headers, socket, head, maxBodyBytes));
  } catch (error) {
    const reason = error instanceof BadBody ? error.message : 'the body could not be read';
    refuse(req.method, req.url, reason);
    return rawAnswer(socket, 400, reason);
  }
  const checked = checkRequest(req, body.length > 0 ? body : undefined, rules);
  if (!checked.ok) {
    refuse(req.method, req.url, checked.reason);
    return rawAnswer(socket, checked.status, checked.reason);
  }
  logger.debug({ method: req.method, path: pathOf(req.url) }, 'Docker API upgrade');
  const upstream = httpRequest({
    socketPath,
    method: req.method,
    path: checked.upstreamUrl,
    headers: { ...upstreamHeaders(req, checked.body), connection: 'Upgrade', upgrade: req.headers.upgrade ?? 'tcp' },
  });
  upstream.on('upgrade', (reply: IncomingMessage, dockerSocket: Socket, dockerHead: Buffer) => {
    const headers = { ...passOnHeaders(reply.headers), connection: 'Upgrade', upgrade: reply.headers.upgrade ?? 'tcp' };
    socket.write(`${statusLine(reply.statusCode ?? 101, reply.statusMessage ?? 'UPGRADED', headers)}\r\n`);
    if (dockerHead.length > 0) socket.write(dockerHead);
    if (rest.length > 0) dockerSocket.write(rest);
    dockerSocket.on('error', () => socket.destroy());
    socket.on('close', () => dockerSocket.destroy());
    dockerSocket.on('close', () => socket.destroy());
    dockerSocket.pipe(socket);
    socket.pipe(dockerSocket);
    socket.resume();
  });
  // Docker answered without upgrading (no such exec, container not running): pass that answer on.
  upstream.on('response', (reply) => {
    const chunks: Buffer[] = [];
    reply.on('data', (chunk: Buffer) => chunks.push(chunk));
    reply.on('end', () => {
      const text = Buffer.concat(chunks);
      const headers = { ...passOnHeaders(reply.headers), 'content-length': String(text.length), connection: 'close' };
      socket.end(Buffer.concat([Buffer.from(`${statusLine(reply.statusCode ?? 502, reply.statusMessage ?? '', headers)}\r\n`), text]));
    });
  });
  upstream.on('error', (error) => {
    logger.warn({ err: error, method: req.method, path: pathOf(req.url) }, 'the Docker socket did not answer');
    rawAnswer(socket, 502, `the Docker engine is not reachable: ${error.message}`);
  });
  upstream.end(checked.body);
}
