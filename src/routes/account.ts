// Deleting one's own account: a POST confirmed twice, by typing the username and by the password
// (re-authentication), that removes the container, the data volume and the account, then ends the
// session (URL and guards: routes/index.ts).
import type { RequestHandler } from 'express';
import { flash } from '../middleware/flash.js';
import type { AccountDeletion } from '../services/accountDeletion.js';

export interface AccountHandlerDeps {
  accountDeletion: AccountDeletion;
  base: string;
}

export function accountHandlers(deps: AccountHandlerDeps) {
  const { base } = deps;

  const deleteAccount: RequestHandler = async (req, res, next) => {
    const { username } = req.user!;
    const typed = typeof req.body?.confirm === 'string' ? req.body.confirm.trim().toLowerCase() : '';
    if (typed !== username) {
      flash(req, 'error', `To delete your account, type your username (${username}) into the box.`);
      return res.redirect(303, `${base}/dashboard`);
    }
    const password = typeof req.body?.password === 'string' ? req.body.password : '';
    await deps.accountDeletion.deleteAccount(req.user!, password);
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
