// Builds the Express app from what it is given. It never listens, reads the environment or opens
// files: server.ts does that, and tests call createApp with their own parts.
import { join } from 'node:path';
import express, { type RequestHandler } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { randomUUID } from 'node:crypto';
import type { Config } from './config.js';
import { projectRoot } from './paths.js';
import type { Logger } from './logger.js';
import type { AccountService } from './auth/accounts.js';
import type { PassportInstance } from './auth/passport.js';
import type { WorkspaceService } from './services/workspace.js';
import type { AccountDeletion } from './services/accountDeletion.js';
import type { HealthService } from './services/health.js';
import type { AccessService } from './services/access.js';
import type { WakeService } from './lifecycle/wake.js';
import type { UserStore } from './db/stores.js';
import type { ContainerManager } from './containers/manager.js';
import type { SpawnProgress } from './lifecycle/progress.js';
import type { LiveLogs } from './logs/liveLogs.js';
import type { Metrics } from './metrics/metrics.js';
import { timeRequests } from './metrics/routes.js';
import { exposeFlash } from './middleware/flash.js';
import { enforceSessionLifetime } from './middleware/auth.js';
import { mountRoutes } from './routes/index.js';
import { createCsrf } from './middleware/csrf.js';
import type { AuditLog } from './audit/log.js';
import type { PeopleService } from './services/people.js';
import type { ConsoleService } from './services/console.js';
import { createRateLimits, type RateLimitStore } from './middleware/rateLimits.js';

export const SESSION_COOKIE = 'spawner.sid';

/**
 * `__Host-spawner.sid` over HTTPS in subdomain mode: the browser then refuses it from anywhere but
 * Spawner's own host, so a person's subdomain cannot toss a session onto Spawner (a Domain-scoped
 * `spawner.sid` is simply not read). Path mode keeps its /hub path, which `__Host-` forbids.
 */
export function sessionCookieName(config: Pick<Config, 'publicScheme' | 'routingMode'>): string {
  return config.publicScheme === 'https' && config.routingMode === 'subdomain' ? '__Host-spawner.sid' : SESSION_COOKIE;
}

export interface AppDeps {
  config: Readonly<Config>;
  logger: Logger;
  sessionSecret: string;
  sessionStore: session.Store;
  passport: PassportInstance;
  accounts: AccountService;
  workspace: WorkspaceService;
  accountDeletion: AccountDeletion;
  health: HealthService;
  wake: WakeService;
  access: AccessService;
  users: UserStore;
  audit: AuditLog;
  people: PeopleService;
  console: ConsoleService;
  /** Names Spawner keeps for itself (its subdomain, its path prefix). */
  reservedNames: readonly string[];
  containers: ContainerManager;
  /** Spawn steps per person, for the starting page and the dashboard. */
  progress: SpawnProgress;
  liveLogs: LiveLogs;
  /** This app's own registry (never prom-client's global one). */
  metrics: Metrics;
  /** Where rate-limit counters live; in memory when absent. */
  rateLimitStoreFor?: (prefix: string) => RateLimitStore;
}

export function createApp(deps: AppDeps): express.Express {
  const { config } = deps;
  const base = config.basePath;
  const sessionCookie = sessionCookieName(config);
  const app = express();

  app.disable('x-powered-by');
  app.set(
    'trust proxy',
    config.http.trustProxy.split(',').map((s) => s.trim()),
  );
  app.set('view engine', 'ejs');
  app.set('views', join(projectRoot(), 'views'));
  app.locals.base = base;
  app.locals.appName = 'Spawner';

  app.use(timeRequests(deps.metrics));
  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const id = randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/health' },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug'),
    }),
  );

  const https = config.publicScheme === 'https';
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          // Subdomain mode: the login form's redirects end on the service's callback, on the
          // person's host, and browsers apply form-action to every redirect of a submission.
          formAction: ["'self'", ...(config.routingMode === 'subdomain' ? [`*.${config.baseDomain}:*`] : [])],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: https ? [] : null,
        },
      },
      strictTransportSecurity: https,
      frameguard: { action: 'deny' },
      // Browsers ignore (and complain about) COOP on plain-HTTP origins other than localhost.
      crossOriginOpenerPolicy: https,
    }),
  );

  const spawner: RequestHandler[] = [];
  // Pages carry CSRF tokens and personal state: never from a cache, not even the back button's.
  spawner.push((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  spawner.push(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 }));
  spawner.push(
    session({
      name: sessionCookie,
      secret: deps.sessionSecret,
      store: deps.sessionStore,
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: {
        httpOnly: true,
        sameSite: 'lax',
        secure: 'auto',
        // In path mode the cookie stays under Spawner's own prefix, so it is never sent to a
        // person's container at /<name>/; in subdomain mode it is host-only (no Domain).
        path: base || '/',
        maxAge: config.session.idleTimeoutMs,
      },
    }),
  );
  spawner.push((_req, res, next) => {
    res.locals.sessionCookieName = sessionCookie;
    res.locals.sessionCookiePath = base || '/';
    next();
  });
  spawner.push(enforceSessionLifetime(config.session.maxAgeMs));
  spawner.push(deps.passport.initialize());
  spawner.push(deps.passport.session());

  const csrf = createCsrf({ secret: deps.sessionSecret, cookiePath: base || '/' });
  spawner.push((req, res, next) => {
    res.locals.currentUser = req.user;
    // Every page may render a form (including a form re-rendered after a failed POST).
    res.locals.csrfToken = csrf.tokenFor(req, res);
    next();
  });
  spawner.push(exposeFlash);

  const limits = createRateLimits({
    ...config.rateLimits,
    ...(deps.rateLimitStoreFor ? { storeFor: deps.rateLimitStoreFor } : {}),
    accountOf: async (login) => (await deps.users.findByLogin(login))?.id,
    onLockout: (req, limit) =>
      void deps.audit.record({
        actor: { kind: 'system', name: 'rate-limit' },
        action: 'login.lockout',
        target:
          String((req.body as Record<string, unknown> | undefined)?.username ?? '')
            .trim()
            .toLowerCase()
            .slice(0, 64) || null,
        client: req.ip ?? null,
        result: 'refused',
        details: { limit },
      }),
  });
  mountRoutes(app, { ...deps, pageMiddleware: spawner, csrf: csrf.protect, limits });
  return app;
}
