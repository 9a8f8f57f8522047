// Signup, login and logout: what each of these URLs does. The URLs and their guards are listed in
// routes/index.ts; these handlers parse the form, call one service and render or redirect.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AccountService } from '../auth/accounts.js';
import type { PassportInstance, SessionUser } from '../auth/passport.js';
import { loginForm, signupForm } from '../auth/validation.js';
import { LoginFailed, ValidationError } from '../errors.js';
import { flash } from '../middleware/flash.js';
import type { WorkspaceService } from '../services/workspace.js';
import type { AccessService } from '../services/access.js';
import { safeLocalNext } from '../middleware/auth.js';
import type { Metrics } from '../metrics/metrics.js';

export interface AuthHandlerDeps {
  accounts: AccountService;
  workspace: WorkspaceService;
  /** Logging out ends the person's access cookies too. */
  access: Pick<AccessService, 'endAccess'>;
  passport: PassportInstance;
  /** Spawner's own base path ('' or '/hub'), for redirects. */
  base: string;
  /** Counts logins by result (spawner_logins_total). */
  metrics?: Pick<Metrics, 'login'>;
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

/** The address a login is for, when `next` is the authorize step of a service's login redirect (shown on the page). */
function serviceAskedFor(next: string | undefined): string | undefined {
  const query = next?.includes('/authorize?') ? next.slice(next.indexOf('?') + 1) : undefined;
  if (query === undefined) return undefined;
  try {
    const url = new URL(new URLSearchParams(query).get('next') ?? '');
    return `${url.host}${url.pathname}`;
  } catch {
    return undefined;
  }
}

const loginPage = (values: { username?: string } = {}, error?: string, next?: string) => ({
  view: 'auth/login',
  locals: { title: 'Log in', values, error, next, service: serviceAskedFor(next) },
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
    // `next`: where the person was going (the authorize step of a service's login redirect).
    const next = safeLocalNext(req.query.next, base);
    if (req.isAuthenticated()) return res.redirect(303, next ?? `${base}/dashboard`);
    if (req.query.logged_out === '1') res.locals.flash = [{ type: 'info', text: 'You have been logged out.' }];
    if (req.query.deleted === '1')
      res.locals.flash = [{ type: 'info', text: 'Your account, your container and its data have been deleted.' }];
    return render(res, loginPage({}, undefined, next));
  };

  const logInWithPassword: RequestHandler = (req: Request, res: Response, fail: NextFunction) => {
    const input = loginForm.parse(req.body ?? {});
    const next = safeLocalNext((req.body as Record<string, unknown> | undefined)?.next, base);
    deps.passport.authenticate('local', (error: unknown, user: SessionUser | false) => {
      if (error) return fail(error);
      if (!user) {
        deps.metrics?.login('failure');
        const failed = new LoginFailed('wrong name or password');
        return fail(new LoginFailed(failed.message, { page: loginPage({ username: input.username }, failed.publicMessage, next) }));
      }
      void (async () => {
        await logIn(req, user);
        deps.metrics?.login('success');
        req.log.info({ userId: user.id, user: user.username }, 'logged in');
        const outcome = await deps.workspace.ensureRunning(user);
        if (outcome.problem) flash(req, 'error', outcome.problem);
        res.redirect(303, next ?? `${base}/dashboard`);
      })().catch(fail);
    })(req, res, fail);
  };

  const logOut: RequestHandler = async (req, res, fail) => {
    const next = safeLocalNext((req.body as Record<string, unknown> | undefined)?.next, base);
    // Every access cookie the person holds dies with the session (all their devices, too).
    if (req.user) await deps.access.endAccess(req.user.id);
    req.logout((error) => {
      if (error) return fail(error);
      req.session.destroy((destroyError) => {
        if (destroyError) return fail(destroyError);
        res.clearCookie(res.locals.sessionCookieName as string, { path: res.locals.sessionCookiePath as string });
        // "Log out and log in as someone else" (the refusal page) comes back to where it was.
        res.redirect(303, `${base}/login?logged_out=1${next ? `&next=${encodeURIComponent(next)}` : ''}`);
      });
    });
  };

  return { home, showSignup, signUp, showLogin, logInWithPassword, logOut };
}
