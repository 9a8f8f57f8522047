// GET /health for Traefik, Docker's HEALTHCHECK and monitors: 200 when all is well, else 503.
import { Router } from 'express';
import type { HealthService } from '../services/health.js';

export function healthRoutes(health: HealthService): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const report = await health.check();
    res.set('Cache-Control', 'no-store');
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });
  return router;
}
