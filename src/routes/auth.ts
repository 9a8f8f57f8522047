// Signup, login and logout: every URL of the account area in one table.
import { Router, type Request, type Response, type NextFunction } from 'express';
import type { RequestHandler } from 'express';
import type { AccountService } from '../auth/accounts.js';
import type { PassportInstance, SessionUser } from '../auth/passport.js';
import { loginForm, signupForm } from '../auth/validation.js';
import { ValidationError } from '../errors.js';
import { flash } from '../middleware/flash.js';
import { methodNotAllowed } from '../middleware/auth.js';
import type { WorkspaceService } from '../services/workspace.js';

export interface AuthRouteDeps {
  accounts: AccountService;
  workspace: WorkspaceService;
  passport: PassportInstance;
  csrf: RequestHandler;
  limits: { login: RequestHandler[]; signup: RequestHandler[] };
  /** Spawner's own base path ('' or '/hub'), for redirects. */
  base: string;
}

/** Logs the person in on a fresh session id (passport regenerates it) and stamps its start. */
function logIn(req: Request, user: SessionUser): Promise<void> {
  return new Promise((resolve, reject) => {
    req.login(user, (error) => {
      if (error) return reject(error);
      req.session.createdAt = Date.now();
      resolve();
    });
  });
}

export function authRoutes(deps: AuthRouteDeps): Router {
  const router = Router();
  const { base } = deps;

  const showSignup = (res: Response, values: { username?: string; email?: string } = {}, errors: Record<string, string> = {}) =>
    res.render('auth/signup', { title: 'Create your account', values, errors });

  const showLogin = (res: Response, values: { username?: string } = {}, error?: string) =>
    res.render('auth/login', { title: 'Log in', values, error });

  router
    .route('/signup')
    .get((req, res) => (req.isAuthenticated() ? res.redirect(303, `${base}/dashboard`) : showSignup(res)))
    .post(...deps.limits.signup, deps.csrf, async (req, res) => {
      const input = signupForm.parse(req.body ?? {});
      let user;
      try {
        user = await deps.accounts.signUp(input);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        res.status(422);
        return showSignup(res, { username: input.username, email: input.email }, error.fields);
      }
      req.log.info({ userId: user.id, user: user.username }, 'account created');
      // The account exists from here on, whatever Docker does next.
      const outcome = await deps.workspace.ensureRunning(user);
      await logIn(req, { id: user.id, username: user.username, email: user.email });
      if (outcome.problem) flash(req, 'error', outcome.problem);
      else flash(req, 'success', `Welcome, ${user.username}! Your container is ready.`);
      return res.redirect(303, `${base}/dashboard`);
    })
    .all(methodNotAllowed(['GET', 'POST']));

  router
    .route('/login')
    .get((req, res) => {
      if (req.isAuthenticated()) return res.redirect(303, `${base}/dashboard`);
      if (req.query.logged_out === '1') res.locals.flash = [{ type: 'info', text: 'You have been logged out.' }];
      if (req.query.deleted === '1')
        res.locals.flash = [{ type: 'info', text: 'Your account, your container and its data have been deleted.' }];
      return showLogin(res);
    })
    .post(...deps.limits.login, deps.csrf, (req: Request, res: Response, next: NextFunction) => {
      const input = loginForm.parse(req.body ?? {});
      deps.passport.authenticate('local', (error: unknown, user: SessionUser | false) => {
        if (error) return next(error);
        if (!user) {
          res.status(401);
          return showLogin(res, { username: input.username }, 'That username or password is not right.');
        }
        void (async () => {
          await logIn(req, user);
          req.log.info({ userId: user.id, user: user.username }, 'logged in');
          const outcome = await deps.workspace.ensureRunning(user);
          if (outcome.problem) flash(req, 'error', outcome.problem);
          res.redirect(303, `${base}/dashboard`);
        })().catch(next);
      })(req, res, next);
    })
    .all(methodNotAllowed(['GET', 'POST']));

  router
    .route('/logout')
    .post(deps.csrf, (req, res, next) => {
      req.logout((error) => {
        if (error) return next(error);
        req.session.destroy((destroyError) => {
          if (destroyError) return next(destroyError);
          res.clearCookie(res.locals.sessionCookieName as string, { path: res.locals.sessionCookiePath as string });
          res.redirect(303, `${base}/login?logged_out=1`);
        });
      });
    })
    .all(methodNotAllowed(['POST']));

  return router;
}
