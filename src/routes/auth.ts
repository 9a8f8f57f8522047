// Signup, login and logout: what each of these URLs does. The URLs and their guards are listed in
// routes/index.ts; these handlers parse the form, call one service and render or redirect.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AccountService } from '../auth/accounts.js';
import type { PassportInstance, SessionUser } from '../auth/passport.js';
import { loginForm, signupForm } from '../auth/validation.js';
import { LoginFailed, ValidationError } from '../errors.js';
import { flash } from '../middleware/flash.js';
import type { WorkspaceService } from '../services/workspace.js';

export interface AuthHandlerDeps {
  accounts: AccountService;
  workspace: WorkspaceService;
  passport: PassportInstance;
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

const signupPage = (values: { username?: string; email?: string } = {}, errors: Record<string, string> = {}) => ({
  view: 'auth/signup',
  locals: { title: 'Create your account', values, errors },
});

const loginPage = (values: { username?: string } = {}, error?: string) => ({
  view: 'auth/login',
  locals: { title: 'Log in', values, error },
});

export function authHandlers(deps: AuthHandlerDeps) {
  const { base } = deps;
  const render = (res: Response, page: { view: string; locals: Record<string, unknown> }) => res.render(page.view, page.locals);

  const home: RequestHandler = (req, res) => res.redirect(303, req.isAuthenticated() ? `${base}/dashboard` : `${base}/login`);

  const showSignup: RequestHandler = (req, res) =>
    req.isAuthenticated() ? res.redirect(303, `${base}/dashboard`) : render(res, signupPage());

  const signUp: RequestHandler = async (req, res) => {
    const input = signupForm.parse(req.body ?? {});
    let user;
    try {
      user = await deps.accounts.signUp(input);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      throw new ValidationError(error.fields, { page: signupPage({ username: input.username, email: input.email }, error.fields) });
    }
    req.log.info({ userId: user.id, user: user.username }, 'account created');
    // The account exists from here on, whatever Docker does next.
    const outcome = await deps.workspace.ensureRunning(user);
    await logIn(req, { id: user.id, username: user.username, email: user.email });
    if (outcome.problem) flash(req, 'error', outcome.problem);
    else flash(req, 'success', `Welcome, ${user.username}! Your container is ready.`);
    res.redirect(303, `${base}/dashboard`);
  };

  const showLogin: RequestHandler = (req, res) => {
    if (req.isAuthenticated()) return res.redirect(303, `${base}/dashboard`);
    if (req.query.logged_out === '1') res.locals.flash = [{ type: 'info', text: 'You have been logged out.' }];
    if (req.query.deleted === '1')
      res.locals.flash = [{ type: 'info', text: 'Your account, your container and its data have been deleted.' }];
    return render(res, loginPage());
  };

  const logInWithPassword: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    const input = loginForm.parse(req.body ?? {});
    deps.passport.authenticate('local', (error: unknown, user: SessionUser | false) => {
      if (error) return next(error);
      if (!user) {
        const failed = new LoginFailed('wrong name or password');
        return next(new LoginFailed(failed.message, { page: loginPage({ username: input.username }, failed.publicMessage) }));
      }
      void (async () => {
        await logIn(req, user);
        req.log.info({ userId: user.id, user: user.username }, 'logged in');
        const outcome = await deps.workspace.ensureRunning(user);
        if (outcome.problem) flash(req, 'error', outcome.problem);
        res.redirect(303, `${base}/dashboard`);
      })().catch(next);
    })(req, res, next);
  };

  const logOut: RequestHandler = (req, res, next) => {
    req.logout((error) => {
      if (error) return next(error);
      req.session.destroy((destroyError) => {
        if (destroyError) return next(destroyError);
        res.clearCookie(res.locals.sessionCookieName as string, { path: res.locals.sessionCookiePath as string });
        res.redirect(303, `${base}/login?logged_out=1`);
      });
    });
  };

  return { home, showSignup, signUp, showLogin, logInWithPassword, logOut };
}
