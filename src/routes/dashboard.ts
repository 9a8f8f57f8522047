// The logged-in person's dashboard and the buttons on it.
import { Router, type RequestHandler } from 'express';
import { flash } from '../middleware/flash.js';
import { methodNotAllowed } from '../middleware/auth.js';
import type { WorkspaceService } from '../services/workspace.js';
import { portSuffix } from '../containers/routing.js';

export interface DashboardRouteDeps {
  workspace: WorkspaceService;
  csrf: RequestHandler;
  requireLogin: RequestHandler;
  base: string;
}

export function dashboardRoutes(deps: DashboardRouteDeps): Router {
  const router = Router();
  const { base } = deps;

  router
    .route('/dashboard')
    .get(deps.requireLogin, async (req, res) => {
      const view = await deps.workspace.dashboard(req.user!, portSuffix(req));
      res.render('dashboard', { title: `${view.username} · Dashboard`, view });
    })
    .all(methodNotAllowed(['GET']));

  router
    .route('/container/restart')
    .post(deps.requireLogin, deps.csrf, async (req, res) => {
      const outcome = await deps.workspace.restart(req.user!);
      flash(req, outcome.problem ? 'error' : 'success', outcome.problem ?? 'Your container was restarted.');
      res.redirect(303, `${base}/dashboard`);
    })
    .all(methodNotAllowed(['POST']));

  router
    .route('/container/start')
    .post(deps.requireLogin, deps.csrf, async (req, res) => {
      const outcome = await deps.workspace.ensureRunning(req.user!, 'start');
      flash(req, outcome.problem ? 'error' : 'success', outcome.problem ?? 'Your container is running.');
      res.redirect(303, `${base}/dashboard`);
    })
    .all(methodNotAllowed(['POST']));

  router
    .route('/container/keep-alive')
    .post(deps.requireLogin, deps.csrf, (req, res) => {
      deps.workspace.keepAlive(req.user!);
      flash(req, 'success', 'Your container keeps running: the idle clock starts again now.');
      res.redirect(303, `${base}/dashboard`);
    })
    .all(methodNotAllowed(['POST']));

  return router;
}
