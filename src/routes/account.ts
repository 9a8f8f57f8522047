// Deleting one's own account: a confirmed POST that removes the container, the data volume and
// the account, then ends the session. Typing the username is the confirmation.
import type { RequestHandler } from 'express';
import type { UserStore } from '../db/stores.js';
import { flash } from '../middleware/flash.js';
import type { WorkspaceService } from '../services/workspace.js';
import type { AccessService } from '../services/access.js';

export interface AccountHandlerDeps {
  workspace: WorkspaceService;
  access: Pick<AccessService, 'forget'>;
  users: Pick<UserStore, 'delete'>;
  base: string;
}

export function accountHandlers(deps: AccountHandlerDeps) {
  const { base } = deps;

  const deleteAccount: RequestHandler = async (req, res, next) => {
    const { id, username } = req.user!;
    const typed = typeof req.body?.confirm === 'string' ? req.body.confirm.trim().toLowerCase() : '';
    if (typed !== username) {
      flash(req, 'error', `To delete your account, type your username (${username}) into the box.`);
      return res.redirect(303, `${base}/dashboard`);
    }
    // Docker first: if it fails, the account stays and the person can try again.
    await deps.workspace.deleteEverything(req.user!);
    await deps.users.delete(id);
    deps.access.forget(id);
    req.log.info({ userId: id, user: username }, 'account deleted');
    req.logout((error) => {
      if (error) return next(error);
      req.session.destroy(() => {
        res.clearCookie(res.locals.sessionCookieName as string, { path: res.locals.sessionCookiePath as string });
        res.redirect(303, `${base}/login?deleted=1`);
      });
    });
  };

  return { deleteAccount };
}
