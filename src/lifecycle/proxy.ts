// Forwards one request to a person's container over the Docker network, the way Traefik would
// (same method, body and headers, X-Forwarded-*, path prefix stripped in path mode). Used only in
// the seconds between a wake and Traefik picking the route up, so no request lands on a 404.
import { request as httpRequest } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { ServiceUnreachable } from '../errors.js';
import type { ServiceAddress } from './readiness.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

export function forwardToService(
  req: Request,
  res: Response,
  next: NextFunction,
  address: ServiceAddress,
  options: {
    stripPrefix?: string;
    onUnreachable?: () => void;
    /** What the access check passes on: the Cookie header without Spawner's, and the person. */
    identity?: { cookie: string | undefined; user: string | undefined };
  },
): void {
  let path = req.originalUrl;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  if (
    options.stripPrefix &&
    (path === options.stripPrefix || path.startsWith(`${options.stripPrefix}/`) || path.startsWith(`${options.stripPrefix}?`))
  ) {
    path = path.slice(options.stripPrefix.length);
    if (!path.startsWith('/')) path = `/${path}`;
    headers['x-forwarded-prefix'] = options.stripPrefix;
  }
  // Only the access check says who is asking (as Traefik's authResponseHeaders do).
  delete headers['x-spawner-user'];
  if (options.identity) {
    delete headers.cookie;
    if (options.identity.cookie) headers.cookie = options.identity.cookie;
    if (options.identity.user) headers['x-spawner-user'] = options.identity.user;
  }
  headers.host = req.get('host') ?? address.host;
  headers['x-forwarded-host'] = req.get('host') ?? '';
  headers['x-forwarded-proto'] = req.protocol;
  headers['x-forwarded-for'] = [req.get('x-forwarded-for'), req.socket.remoteAddress].filter(Boolean).join(', ');

  // Node's client sends a GET/HEAD/DELETE/OPTIONS body without framing unless told to: the body's
  // bytes would then reach the service as a second request. Keep the client's chunked framing.
  if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';

  const badGateway = () => {
    if (!res.headersSent) next(new ServiceUnreachable('no usable answer from the service'));
    else res.destroy();
  };
  const upstream = httpRequest({ host: address.host, port: address.port, method: req.method, path, headers }, (answer) => {
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    }
    // A person's service may answer anything; writeHead throws on statuses outside 100-999 (and
    // nothing here could catch it later), and a 1xx is no final answer to forward.
    const status = answer.statusCode ?? 0;
    if (status < 200 || status > 599) {
      answer.destroy();
      return badGateway();
    }
    try {
      res.writeHead(status, out);
    } catch {
      answer.destroy();
      return badGateway();
    }
    answer.pipe(res);
  });
  // A 101 without an upgrade listener would leave the request hanging: there is no upgrade here.
  upstream.on('upgrade', (_answer, socket) => {
    socket.destroy();
    badGateway();
  });
  // A stopped container's address does not even refuse: give up on connecting after 3 s, on a
  // silent answer after a minute.
  upstream.on('socket', (socket) => {
    socket.setTimeout(3000, () => upstream.destroy(new Error('no answer from the service')));
    socket.once('connect', () => socket.setTimeout(60_000));
  });
  upstream.on('error', () => {
    options.onUnreachable?.();
    badGateway();
  });
  req.on('aborted', () => upstream.destroy());
  req.pipe(upstream);
}
