// /admin: the operator's console pages (admins only; the guards are in routes/index.ts). Handlers
// parse the query or form, call the console or people service, and render or redirect back.
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import type { ConsoleService } from '../services/console.js';
import type { Acting, PeopleService } from '../services/people.js';
import { BadRequest, Forbidden } from '../errors.js';
import { flash } from '../middleware/flash.js';

export interface AdminHandlerDeps {
  console: ConsoleService;
  people: PeopleService;
  base: string;
}

/** Only admins; anyone else logged in gets 403 (requireLogin runs before). */
export const requireAdmin: RequestHandler = (req, _res, next) =>
  req.user?.isAdmin ? next() : next(new Forbidden('not an admin', { publicMessage: 'This page is for admins.', title: 'Admins only' }));

const peopleQuery = z.object({
  q: z.string().max(64).optional(),
  sort: z.enum(['name', 'activity']).catch('name'),
  running: z.literal('1').optional(),
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1),
});

const auditQuery = z.object({
  person: z.string().max(64).optional(),
  action: z.string().max(64).optional(),
  from: z.iso.date().optional().catch(undefined),
  to: z.iso.date().optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1),
});

const ACTIONS = ['start', 'stop', 'restart', 'disable', 'enable', 'make-admin', 'remove-admin', 'delete', 'approve', 'reject'] as const;

const acting = (req: Request): Acting => ({ actor: { kind: 'admin', name: req.user!.username }, client: req.ip });

export function adminHandlers(deps: AdminHandlerDeps) {
  const { base } = deps;

  const overview: RequestHandler = async (req, res) => {
    const query = peopleQuery.parse(req.query);
    const filter = { q: query.q?.trim() || undefined, sort: query.sort, onlyRunning: query.running === '1', page: query.page };
    const view = await deps.console.people(filter);
    res.render('admin/index', { title: 'Admin', view, filter });
  };

  const auditPage: RequestHandler = async (req, res) => {
    const q = auditQuery.parse(req.query);
    const result = await deps.console.auditLog({
      ...(q.person?.trim() ? { person: q.person.trim().toLowerCase() } : {}),
      ...(q.action?.trim() ? { action: q.action.trim() } : {}),
      ...(q.from ? { from: new Date(`${q.from}T00:00:00Z`) } : {}),
      ...(q.to ? { to: new Date(`${q.to}T23:59:59.999Z`) } : {}),
      offset: (q.page - 1) * 50,
    });
    res.render('admin/audit', { title: 'Audit log', result, filter: q });
  };

  const act: RequestHandler = async (req, res) => {
    // The person and the action come from the form (admins act on anyone; nothing in the URL names a container).
    const body = (req.body ?? {}) as Record<string, unknown>;
    const action = ACTIONS.find((a) => a === body.action);
    if (!action) throw new BadRequest(`unknown admin action ${String(body.action).slice(0, 32)}`);
    const who = acting(req);
    const person = await deps.people.find(typeof body.name === 'string' ? body.name : '');
    switch (action) {
      case 'start':
      case 'stop':
      case 'restart': {
        try {
          await deps.people.container(person.username, action, who);
          flash(req, 'success', `${action}: ${person.username} done.`);
        } catch {
          flash(req, 'error', `Could not ${action} ${person.username}'s container.`);
        }
        break;
      }
      case 'disable':
      case 'enable':
        await deps.people.setDisabled(person.username, action === 'disable', who);
        flash(req, 'success', `${person.username} ${action}d.`);
        break;
      case 'make-admin':
      case 'remove-admin':
        await deps.people.setAdmin(person.username, action === 'make-admin', who);
        flash(req, 'success', `${person.username} updated.`);
        break;
      case 'delete':
        if (body.confirm !== person.username) {
          flash(req, 'error', `Type ${person.username} to confirm the deletion. Nothing was deleted.`);
          break;
        }
        await deps.people.delete(person.username, who);
        flash(req, 'success', `${person.username}, their container and data were deleted.`);
        break;
      case 'approve':
        await deps.people.approve(person.username, who);
        flash(req, 'success', `${person.username} approved.`);
        break;
      case 'reject':
        await deps.people.reject(person.username, who);
        flash(req, 'success', `${person.username}'s signup rejected.`);
        break;
    }
    res.redirect(303, `${base}/admin`);
  };

  return { overview, auditPage, act };
}
