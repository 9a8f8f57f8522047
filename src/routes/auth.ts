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
import type { TemplatesConfig } from '../config/templates.js';
import type { Template } from '../templates/catalogue.js';
import { choicesFor } from '../templates/access.js';
import type { AuditLog } from '../audit/log.js';
import type { UserStore } from '../db/stores.js';
import type { ConsoleConfig } from '../config/console.js';
import { decideSignup } from '../auth/signupPolicy.js';
import type { Metrics } from '../metrics/metrics.js';

export interface AuthHandlerDeps {
  accounts: AccountService;
  workspace: WorkspaceService;
  audit: Pick<AuditLog, 'record'>;
  users: Pick<UserStore, 'count'>;
  policy: Pick<ConsoleConfig, 'signupMode' | 'signupEmailDomains' | 'maxUsers'>;
  /** Logging out ends the person's access cookies too. */
  access: Pick<AccessService, 'endAccess'>;
  passport: PassportInstance;
  /** Spawner's own base path ('' or '/hub'), for redirects. */
  base: string;
  config: { templates: TemplatesConfig };
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

const signupPage = (
  templates: readonly Template[],
  values: { username?: string; email?: string; template?: string } = {},
  errors: Record<string, string> = {},
) => ({
  view: 'auth/signup',
  // The choice is offered only when there is one to make (a catalogue, not the single default).
  locals: { title: 'Create your account', values, errors, templates: templates.length > 1 ? templates : [] },
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
  // What a newcomer may choose: the catalogue's `allowed: everyone` entries and lists (no admin yet).
  const newcomerChoices = (username = '') => choicesFor(deps.config.templates.list, { username, isAdmin: false, allowedTemplates: null });
  const render = (res: Response, page: { view: string; locals: Record<string, unknown> }) => res.render(page.view, page.locals);

  const home: RequestHandler = (req, res) => res.redirect(303, req.isAuthenticated() ? `${base}/dashboard` : `${base}/login`);

  const showSignup: RequestHandler = (req, res) =>
    req.isAuthenticated() ? res.redirect(303, `${base}/dashboard`) : render(res, signupPage(newcomerChoices()));

  const signUp: RequestHandler = async (req, res) => {
    const input = signupForm.parse(req.body ?? {});
    const decision = decideSignup(deps.policy, input.email, await deps.users.count());
    const target = input.username.trim().toLowerCase().slice(0, 64);
    if (!decision.allowed) {
      await deps.audit.record({
        actor: { kind: 'person', name: target },
        action: 'signup',
        target,
        client: req.ip ?? null,
        result: 'refused',
        details: { why: decision.why },
      });
      throw new ValidationError(
        { signup: decision.message },
        {
          page: signupPage(
            newcomerChoices(),
            { username: input.username, email: input.email, template: input.template },
            { signup: decision.message },
          ),
        },
      );
    }
    let user;
    try {
      user = await deps.accounts.signUp(input, { approval: decision.approval });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      throw new ValidationError(error.fields, {
        page: signupPage(newcomerChoices(), { username: input.username, email: input.email, template: input.template }, error.fields),
      });
    }
    req.log.info({ userId: user.id, user: user.username }, 'account created');
    await deps.audit.record({
      actor: { kind: 'person', name: user.username },
      action: 'signup',
      target: user.username,
      client: req.ip ?? null,
      result: 'ok',
      details: { approval: user.approval },
    });
    if (user.approval === 'pending') {
      // No container until an admin approves; the person may log in only to see that page.
      await logIn(req, { id: user.id, username: user.username, email: user.email, pending: true });
      return res.redirect(303, `${base}/dashboard`);
    }
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
    deps.passport.authenticate('local', (error: unknown, user: SessionUser | false, info?: { message?: string }) => {
      if (error) return fail(error);
      // The name as typed (bounded), as actor and target: a refused login has no account to name.
      const auditRefusal = (action: string, details?: Record<string, unknown>) => {
        const name = input.username.slice(0, 64);
        void deps.audit.record({
          actor: { kind: 'person', name },
          action,
          target: name,
          client: req.ip ?? null,
          result: 'refused',
          ...(details ? { details } : {}),
        });
      };
      if (!user && info?.message === 'disabled') {
        auditRefusal('login.refused', { why: 'disabled' });
        const text = 'This account has been disabled. Ask the operator of this server if you think that is a mistake.';
        return fail(
          new LoginFailed('disabled account', { publicMessage: text, page: loginPage({ username: input.username }, text, next) }),
        );
      }
      if (!user) {
        auditRefusal('login.failed');
        deps.metrics?.login('failure');
        const failed = new LoginFailed('wrong name or password');
        return fail(new LoginFailed(failed.message, { page: loginPage({ username: input.username }, failed.publicMessage, next) }));
      }
      void (async () => {
        await logIn(req, user);
        deps.metrics?.login('success');
        req.log.info({ userId: user.id, user: user.username }, 'logged in');
        if (user.pending) return res.redirect(303, `${base}/dashboard`);
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
