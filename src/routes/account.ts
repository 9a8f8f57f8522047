// Deleting one's own account: a confirmed POST that removes the container, the data volume and
// the account, then ends the session. Typing the username is the confirmation.
import { Router, type RequestHandler } from 'express';
import type { UserStore } from '../db/stores.js';
import { flash } from '../middleware/flash.js';
import { methodNotAllowed } from '../middleware/auth.js';
import type { WorkspaceService } from '../services/workspace.js';

export interface AccountRouteDeps {
  workspace: WorkspaceService;
  users: Pick<UserStore, 'delete'>;
  csrf: RequestHandler;
  requireLogin: RequestHandler;
  base: string;
}

export function accountRoutes(deps: AccountRouteDeps): Router {
  const router = Router();
  const { base } = deps;

  router
    .route('/account/delete')
    .post(deps.requireLogin, deps.csrf, async (req, res, next) => {
      const { id, username } = req.user!;
      const typed = typeof req.body?.confirm === 'string' ? req.body.confirm.trim().toLowerCase() : '';
      if (typed !== username) {
        flash(req, 'error', `To delete your account, type your username (${username}) into the box.`);
        return res.redirect(303, `${base}/dashboard`);
      }
      // Docker first: if it fails, the account stays and the person can try again.
      await deps.workspace.deleteEverything(req.user!);
      await deps.users.delete(id);
      req.log.info({ userId: id, user: username }, 'account deleted');
      req.logout((error) => {
        if (error) return next(error);
        req.session.destroy(() => {
          res.clearCookie(res.locals.sessionCookieName as string, { path: res.locals.sessionCookiePath as string });
          res.redirect(303, `${base}/login?deleted=1`);
        });
      });
    })
    .all(methodNotAllowed(['POST']));

  return router;
}
