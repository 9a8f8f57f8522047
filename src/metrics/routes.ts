// GET /metrics, and the middleware that times every request Spawner answers by route template.
import type { RequestHandler } from 'express';
import { NotFound, TokenRequired } from '../errors.js';
import type { Metrics } from './metrics.js';
import type { MetricsAuthorizer } from './access.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function metricsHandler(metrics: Metrics, authorize: MetricsAuthorizer): RequestHandler {
  return async (req, res, next) => {
    const verdict = authorize(req);
    if (verdict === 'off') return next(new NotFound('metrics are off: METRICS_TOKEN is not set'));
    if (verdict === 'refused') return next(new TokenRequired('metrics token missing or wrong'));
    const body = await metrics.scrape();
    res.set('Cache-Control', 'no-store').type(metrics.contentType).send(body);
  };
}

/**
 * Times each request once it is answered. The route label is what the route table put in
 * res.locals.route (the template, e.g. /dashboard), or a fixed word: never the raw path, which
 * would carry people's names and any string a scanner tries. Event streams are left out: their
 * "duration" is how long someone kept a page open.
 */
export function timeRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      if (String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')) return;
      const route = typeof res.locals.route === 'string' ? res.locals.route : 'unmatched';
      const method = METHODS.has(req.method) ? req.method : 'other';
      metrics.httpRequest(route, method, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
