// Turns a list of routes into an Express router: each path answers the methods listed for it
// (GET also answers HEAD), and every other method gets 405 with the Allow header, through the one
// error handler. The list itself is in routes/index.ts.
import { Router, type RequestHandler } from 'express';
import { MethodNotAllowed } from '../errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Route {
  method: Method;
  path: string;
  /** Run in order before the handler: login, CSRF, rate limits, admin, token scope. */
  guards: readonly RequestHandler[];
  handler: RequestHandler;
}

export function route(
  method: Method,
  path: string,
  guards: readonly (RequestHandler | readonly RequestHandler[])[],
  handler: RequestHandler,
): Route {
  return { method, path, guards: guards.flat(), handler };
}

export function routerFrom(routes: readonly Route[]): Router {
  const router = Router();
  const byPath = new Map<string, Route[]>();
  for (const r of routes) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  for (const [path, list] of byPath) {
    const chain = router.route(path);
    // The template (with the mount point, e.g. /hub/dashboard) labels the request's metrics.
    const label: RequestHandler = (req, res, next) => {
      res.locals.route = `${req.baseUrl}${path}`;
      next();
    };
    for (const r of list)
      chain[r.method === 'GET' ? 'get' : (r.method.toLowerCase() as 'post' | 'put' | 'patch' | 'delete')](label, ...r.guards, r.handler);
    const allowed = list.map((r) => r.method);
    chain.all((_req, _res, next) => next(new MethodNotAllowed(allowed)));
  }
  return router;
}
