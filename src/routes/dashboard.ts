// The logged-in person's dashboard and the buttons on it (URLs and guards: routes/index.ts).
import type { RequestHandler } from 'express';
import { flash } from '../middleware/flash.js';
import type { WorkspaceService } from '../services/workspace.js';
import { portSuffix } from '../addressing.js';
import type { AccessService } from '../services/access.js';
import type { UserStore } from '../db/stores.js';
import type { TemplatesConfig } from '../config/templates.js';
import { chooseTemplate, choicesFor, templateOf } from '../templates/access.js';
import { Forbidden, NotFound, ValidationError } from '../errors.js';

export interface DashboardHandlerDeps {
  workspace: WorkspaceService;
  access: Pick<AccessService, 'describe'>;
  users: Pick<UserStore, 'findById' | 'setTemplate'>;
  config: { templates: TemplatesConfig };
  base: string;
}

export function dashboardHandlers(deps: DashboardHandlerDeps) {
  const { base, workspace } = deps;

  /** The person's template and the others they may switch to (none offered with a single template). */
  const templatesFor = async (id: number) => {
    const user = await deps.users.findById(id);
    if (!user) throw new NotFound('account gone');
    const list = deps.config.templates.list;
    return { user, current: templateOf(list, user), choices: list.length > 1 ? choicesFor(list, user) : [] };
  };

  const dashboardLocals = async (req: Parameters<RequestHandler>[0], errors: Record<string, string> = {}) => {
    const view = await workspace.dashboard(req.user!, portSuffix(req.host));
    const { current, choices } = await templatesFor(req.user!.id);
    const templates = { current, choices };
    return { title: `${view.username} · Dashboard`, view, access: deps.access.describe(req.user!), templates, errors };
  };

  const dashboard: RequestHandler = async (req, res) => {
    if (req.user!.pending) return res.render('auth/pending', { title: 'Waiting for approval' });
    res.render('dashboard', await dashboardLocals(req));
  };

  // Switching recreates the container from the new template (restart notices the changed plan);
  // the data volume is the person's, shared by every template, and stays.
  const switchTemplate: RequestHandler = async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const { user, current } = await templatesFor(req.user!.id);
    const chosen = chooseTemplate(deps.config.templates.list, body.template, user);
    const problem =
      chosen === 'unknown'
        ? 'Choose one of the templates offered.'
        : chosen === 'forbidden'
          ? 'This template is not available to you.'
          : body.confirm !== 'yes'
            ? 'Tick the box to confirm: your container restarts with the new template.'
            : null;
    if (problem !== null || typeof chosen === 'string') {
      const fields = { template: problem ?? 'Choose one of the templates offered.' };
      throw new ValidationError(fields, { page: { view: 'dashboard', locals: await dashboardLocals(req, fields) } });
    }
    if (chosen.name === current.name) {
      flash(req, 'info', `Your container already uses ${chosen.title}.`);
      return res.redirect(303, `${base}/dashboard`);
    }
    await deps.users.setTemplate(user.id, chosen.name);
    req.log.info({ userId: user.id, template: chosen.name, from: current.name }, 'template switched');
    const outcome = await workspace.restart(req.user!);
    flash(req, outcome.problem ? 'error' : 'success', outcome.problem ?? `Your container now runs ${chosen.title}; your data is kept.`);
    res.redirect(303, `${base}/dashboard`);
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

  /** A signup still waiting for approval gets no container (start, restart, keep-alive, template switch). */
  const refusePending: RequestHandler = (req, _res, next) =>
    req.user?.pending
      ? next(
          new Forbidden('pending approval', {
            publicMessage: 'Your account is waiting for an admin’s approval.',
            title: 'Waiting for approval',
          }),
        )
      : next();

  return { dashboard, switchTemplate, restart, start, keepAlive, refusePending };
}
