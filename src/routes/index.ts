// Every URL Spawner answers, in the order Express tries them, with the guards each one runs.
// Start here to find any behaviour: the handler's name leads to its file in routes/.
//
//   guards:  login = a logged-in session (GET redirects to the login page, other methods 401)
//            csrf  = the form's token matches the session's (403 csrf_failed)
//            loginAndBack = login, and after it back to this page
//            loginLimit / signupLimit = failed logins per client and account, signups per client,
//                    and password work at once (429); after csrf, so only real password checks count
//            passwordWork = bcrypt work in progress at once (429 beyond), for other password forms
//            requireAdmin = the session's person is an admin (403 otherwise)
import express, { type Express, type RequestHandler } from 'express';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { projectRoot } from '../paths.js';
import type { AccountService } from '../auth/accounts.js';
import type { PassportInstance } from '../auth/passport.js';
import type { UserStore } from '../db/stores.js';
import type { HealthService } from '../services/health.js';
import type { WakeService } from '../lifecycle/wake.js';
import type { WorkspaceService } from '../services/workspace.js';
import type { AccountDeletion } from '../services/accountDeletion.js';
import type { AccessService } from '../services/access.js';
import type { AuditLog } from '../audit/log.js';
import type { PeopleService } from '../services/people.js';
import type { ConsoleService } from '../services/console.js';
import type { ContainerManager } from '../containers/manager.js';
import { adminHandlers, requireAdmin } from './admin.js';
import { requireLogin } from '../middleware/auth.js';
import { accessHandlers } from './access.js';
import { errorHandler, notFound } from '../middleware/errors.js';
import { accountHandlers } from './account.js';
import { authHandlers } from './auth.js';
import { dashboardHandlers } from './dashboard.js';
import { healthHandler } from './health.js';
import { route, routerFrom } from './table.js';
import { wakeHandler } from './wake.js';
import { observeHandlers } from './observe.js';
import { metricsHandler } from '../metrics/routes.js';
import { metricsTokenCheck } from '../metrics/access.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SpawnProgress } from '../lifecycle/progress.js';
import type { LiveLogs } from '../logs/liveLogs.js';

export interface RouteDeps {
  config: Readonly<Config>;
  accounts: AccountService;
  workspace: WorkspaceService;
  accountDeletion: AccountDeletion;
  passport: PassportInstance;
  health: HealthService;
  wake: WakeService;
  access: AccessService;
  users: UserStore;
  audit: AuditLog;
  people: PeopleService;
  console: ConsoleService;
  containers: ContainerManager;
  reservedNames: readonly string[];
  progress: SpawnProgress;
  liveLogs: LiveLogs;
  metrics: Metrics;
  /** Session, passport, CSRF token and flash messages, for Spawner's own pages. */
  pageMiddleware: readonly RequestHandler[];
  csrf: RequestHandler;
  limits: { login: RequestHandler[]; signup: RequestHandler[]; passwordWork: RequestHandler };
}

export function mountRoutes(app: Express, deps: RouteDeps): void {
  const base = deps.config.basePath;
  const auth = authHandlers({ ...deps, base, policy: deps.config.console });
  const dashboard = dashboardHandlers({ ...deps, base });
  const account = accountHandlers({ ...deps, base });
  const access = accessHandlers({ ...deps, base });
  const admin = adminHandlers({ ...deps, base });
  const observe = observeHandlers({ ...deps, logs: deps.liveLogs });
  const login = requireLogin(`${base}/login`);
  const loginAndBack = requireLogin(`${base}/login`, { comeBack: true });
  const { csrf } = deps;
  const { login: loginLimit, signup: signupLimit, passwordWork } = deps.limits;

  // 0. Traefik's forwardAuth asks here, for every request to a person's service, whether it may
  //    go in (the request itself is in X-Forwarded-*). First, because its X-Forwarded-Host names
  //    the person; at the root in both modes, where the middleware's address points.
  app.use(routerFrom([route('GET', '/.spawner/verify', [], access.verify)]));

  // 1. Any request for a person's service (alice.<domain>, or <domain>/alice/… in path mode):
  //    it reaches Spawner only through Traefik's fallback route, i.e. while the service sleeps.
  //    Wake it. Before /health, since alice.<domain>/health is hers. Guards inside: the access
  //    check (the same as verify's, before anything starts), bots, limits.
  app.use(
    wakeHandler({
      config: deps.config,
      users: deps.users,
      wake: deps.wake,
      access: deps.access,
      reserved: deps.reservedNames,
      progress: deps.progress,
    }),
  );

  // 2. GET /health at the root in both modes: Docker's HEALTHCHECK and monitors know one address.
  //    GET /metrics beside it for Prometheus: a bearer token (METRICS_TOKEN), never a session.
  app.use(
    routerFrom([
      route('GET', '/health', [], healthHandler(deps.health)),
      route('GET', '/metrics', [], metricsHandler(deps.metrics, metricsTokenCheck(deps.config.observe.metricsToken))),
    ]),
  );

  // 3. Spawner's own pages, under its base path ('' in subdomain mode, e.g. /hub in path mode).
  const pages = express.Router();
  pages.use('/static', labelled(`${base}/static/*`), express.static(join(projectRoot(), 'public'), { maxAge: '1h', index: false }));
  pages.use(...deps.pageMiddleware);
  pages.use(
    routerFrom([
      route('GET', '/', [], auth.home),
      route('GET', '/signup', [], auth.showSignup),
      route('POST', '/signup', [csrf, signupLimit], auth.signUp),
      route('GET', '/login', [], auth.showLogin),
      route('POST', '/login', [csrf, loginLimit], auth.logInWithPassword),
      route('POST', '/logout', [csrf], auth.logOut),
      route('GET', '/authorize', [loginAndBack], access.authorize),
      route('GET', '/dashboard', [login], dashboard.dashboard),
      route('GET', '/dashboard/progress', [login], observe.progress),
      route('GET', '/dashboard/logs', [login], observe.logs),
      route('POST', '/container/restart', [login, csrf, dashboard.refusePending], dashboard.restart),
      route('POST', '/container/start', [login, csrf, dashboard.refusePending], dashboard.start),
      route('POST', '/container/keep-alive', [login, csrf, dashboard.refusePending], dashboard.keepAlive),
      route('POST', '/container/template', [login, csrf, dashboard.refusePending], dashboard.switchTemplate),
      route('POST', '/account/delete', [login, csrf, passwordWork], account.deleteAccount),
      route('POST', '/access/visibility', [login, csrf], access.setVisibility),
      route('POST', '/access/share', [login, csrf], access.share),
      route('POST', '/access/unshare', [login, csrf], access.unshare),
      // The operator's console: admins only (403 for anyone else), CSRF on every POST.
      route('GET', '/admin', [login, requireAdmin], admin.overview),
      route('GET', '/admin/audit', [login, requireAdmin], admin.auditPage),
      route('POST', '/admin/act', [login, csrf, requireAdmin], admin.act),
    ]),
  );
  if (base) {
    // Path mode: the bare domain leads to Spawner's pages.
    app.use(routerFrom([route('GET', '/', [], (_req, res) => res.redirect(303, `${base}/`))]));
    app.use(base, pages);
  } else {
    app.use(pages);
  }

  // 4. Nothing matched: 404; and every error of every route above ends in the one handler.
  app.use(notFound);
  app.use(errorHandler);
}

/** A fixed metrics label for requests outside the route table. */
function labelled(name: string): RequestHandler {
  return (_req, res, next) => {
    res.locals.route = name;
    next();
  };
}
