// GET /health for Traefik, Docker's HEALTHCHECK and monitors: 200 when all is well, else 503 with
// the same report (a health report is an answer, not an error).
import type { RequestHandler } from 'express';
import type { HealthService } from '../services/health.js';

export function healthHandler(health: HealthService): RequestHandler {
  return async (_req, res) => {
    const report = await health.check();
    res.set('Cache-Control', 'no-store');
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  };
}
