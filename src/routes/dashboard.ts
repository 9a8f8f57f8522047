// The logged-in person's dashboard and the buttons on it (URLs and guards: routes/index.ts).
import type { RequestHandler } from 'express';
import { flash } from '../middleware/flash.js';
import { Forbidden } from '../errors.js';
import type { WorkspaceService } from '../services/workspace.js';
import { portSuffix } from '../addressing.js';
import type { AccessService } from '../services/access.js';

export interface DashboardHandlerDeps {
  workspace: WorkspaceService;
  access: Pick<AccessService, 'describe'>;
  base: string;
}

export function dashboardHandlers(deps: DashboardHandlerDeps) {
  const { base, workspace } = deps;

  const dashboard: RequestHandler = async (req, res) => {
    if (req.user!.pending) return res.render('auth/pending', { title: 'Waiting for approval' });
    const view = await workspace.dashboard(req.user!, portSuffix(req.host));
    res.render('dashboard', { title: `${view.username} · Dashboard`, view, access: deps.access.describe(req.user!), errors: {} });
  };

  const restart: RequestHandler = async (req, res) => {
    const outcome = await workspace.restart(req.user!);
    flash(req, outcome.problem ? 'error' : 'success', outcome.problem ?? 'Your container was restarted.');
    res.redirect(303, `${base}/dashboard`);
  };

  const start: RequestHandler = async (req, res) => {
    const outcome = await workspace.ensureRunning(req.user!, 'start');
    flash(req, outcome.problem ? 'error' : 'success', outcome.problem ?? 'Your container is running.');
    res.redirect(303, `${base}/dashboard`);
  };

  const keepAlive: RequestHandler = (req, res) => {
    workspace.keepAlive(req.user!);
    flash(req, 'success', 'Your container keeps running: the idle clock starts again now.');
    res.redirect(303, `${base}/dashboard`);
  };

  /** A signup still waiting for approval gets no container (start, restart, keep-alive). */
  const refusePending: RequestHandler = (req, _res, next) =>
    req.user?.pending
      ? next(
          new Forbidden('pending approval', {
            publicMessage: 'Your account is waiting for an admin’s approval.',
            title: 'Waiting for approval',
          }),
        )
      : next();

  return { dashboard, restart, start, keepAlive, refusePending };
}
