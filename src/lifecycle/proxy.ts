// Forwards one request to a person's container over the Docker network, the way Traefik would
// (same method, body and headers, X-Forwarded-*, path prefix stripped in path mode). Used only in
// the seconds between a wake and Traefik picking the route up, so no request lands on a 404.
import { request as httpRequest } from 'node:http';
import type { Request, Response } from 'express';
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
  address: ServiceAddress,
  options: { stripPrefix?: string; onUnreachable?: () => void },
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
  headers.host = req.get('host') ?? address.host;
  headers['x-forwarded-host'] = req.get('host') ?? '';
  headers['x-forwarded-proto'] = req.protocol;
  headers['x-forwarded-for'] = [req.get('x-forwarded-for'), req.socket.remoteAddress].filter(Boolean).join(', ');

  const upstream = httpRequest({ host: address.host, port: address.port, method: req.method, path, headers }, (answer) => {
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    }
    res.writeHead(answer.statusCode ?? 502, out);
    answer.pipe(res);
  });
  // A stopped container's address does not even refuse: give up on connecting after 3 s, on a
  // silent answer after a minute.
  upstream.on('socket', (socket) => {
    socket.setTimeout(3000, () => upstream.destroy(new Error('no answer from the service')));
    socket.once('connect', () => socket.setTimeout(60_000));
  });
  upstream.on('error', () => {
    options.onUnreachable?.();
    if (!res.headersSent) res.status(502).type('text/plain').send('The service did not answer. Please reload.\n');
    else res.destroy();
  });
  req.on('aborted', () => upstream.destroy());
  req.pipe(upstream);
}
