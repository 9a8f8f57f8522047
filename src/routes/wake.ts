// The wake-on-request fallback. When a person's container is stopped Traefik has no route for it,
// so its low-priority fallback router sends the request here: subdomain mode by host
// (alice.<domain>), path mode by first segment (<domain>/alice/…). Spawner starts the container
// and holds the request briefly: a fast service gets the request forwarded directly. Otherwise
// browsers get a small "starting…" page told over server-sent events the moment the service
// answers; programs are held until then. Until Traefik picks the new route up, Spawner forwards.
// Without a Traefik (the first run) it is Spawner's own forwarder. Either way the access check
// (services/access.ts) decides first: only a request allowed in wakes or reaches anything.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Forbidden, NotFound, ServiceUnavailable, TooManyRequests } from '../errors.js';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import type { Config } from '../config.js';
import type { UserStore } from '../db/stores.js';
import { personOfRequest, spawnerOrigin } from '../addressing.js';
import { holdOrPage, type WakeService } from '../lifecycle/wake.js';
import type { ServiceAddress } from '../lifecycle/readiness.js';
import { forwardToService } from '../lifecycle/proxy.js';
import { setPageCsp } from '../middleware/pageCsp.js';
import type { AccessService } from '../services/access.js';
import { answerRefusal } from './access.js';
import type { SpawnProgress } from '../lifecycle/progress.js';

export interface WakeRouteDeps {
  config: Readonly<Config>;
  users: Pick<UserStore, 'findByUsername'>;
  wake: WakeService;
  access: Pick<AccessService, 'ready' | 'check'>;
  reserved: readonly string[];
  /** The starting page shows each step of the start as it happens. */
  progress?: Pick<SpawnProgress, 'subscribe' | 'current'>;
}

/** The path, on the person's own address, where the wake page listens for "ready". */
export const WAKE_EVENTS_PATH = '/.spawner/wake-events';

function isBot(req: Request, patterns: readonly string[]): boolean {
  const agent = (req.get('user-agent') ?? '').toLowerCase();
  return agent === '' || patterns.some((p) => agent.includes(p));
}

export function wakeHandler(deps: WakeRouteDeps): RequestHandler {
  const { config } = deps;
  const limitOptions = {
    windowMs: 60_000,
    limit: config.lifecycle.wakeRateLimitPerMinute,
    standardHeaders: 'draft-8' as const,
    legacyHeaders: false,
  };
  const tooMany = (_req: Request, _res: Response, next: NextFunction) =>
    next(new TooManyRequests('Too many wake-up requests. Please wait a minute.'));
  const perClient = rateLimit({ ...limitOptions, keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'), handler: tooMany });
  const perName = rateLimit({ ...limitOptions, keyGenerator: (req) => `name:${String(req.res?.locals.wakeName)}`, handler: tooMany });

  return async (req, res, next) => {
    const name = personOfRequest(config, req, deps.reserved);
    if (!name) return next();
    // One metrics label for every request to people's services (never their names).
    res.locals.route = '(service)';
    res.set('Cache-Control', 'no-store');
    // Like Traefik's slash redirect, and before the check as there: relative links (and the
    // access cookie's Path=/<name>/) must apply inside /<name>/.
    if (config.routingMode === 'path' && req.path === `/${name}`) return res.redirect(301, `/${name}/${queryOf(req)}`);
    // The same rule as Traefik's forwardAuth, before anything wakes or is forwarded. Unknown names
    // get the same answer as existing ones, so a stranger cannot probe for names.
    await deps.access.ready();
    const verdict = deps.access.check({
      host: req.host,
      uri: req.originalUrl,
      method: req.method,
      proto: req.protocol,
      accept: req.get('accept'),
      cookie: req.get('cookie'),
    });
    if (verdict.kind === 'not-a-service') return next();
    if (verdict.kind !== 'allow') {
      const refusal = answerRefusal(verdict, res, {
        proto: req.protocol,
        host: req.host,
        config,
        asked: `${req.protocol}://${req.host}${req.originalUrl}`,
      });
      return refusal ? next(refusal) : undefined;
    }
    const user = await deps.users.findByUsername(name);
    if (!user) {
      // Only between an account's deletion and the access table hearing of it.
      const page = {
        view: 'wake/unknown',
        locals: {
          title: 'No such service',
          name,
          nonce: setPageCsp(res),
          signupUrl: `${spawnerOrigin(req.protocol, req.host, config)}${config.basePath}/signup`,
        },
      };
      return next(new NotFound(`no account ${name}`, { publicMessage: `There is no service called ${name} here.`, page }));
    }
    if (user.disabled || user.approval !== 'approved') {
      // Nothing starts for a disabled account or a signup still waiting for approval.
      return next(
        new Forbidden(`account ${name} is ${user.disabled ? 'disabled' : 'pending'}`, {
          publicMessage: `The service ${name} is not available.`,
          title: 'Not available',
        }),
      );
    }
    const isEvents = req.path === WAKE_EVENTS_PATH || req.path === `/${name}${WAKE_EVENTS_PATH}`;
    const forward = (address: ServiceAddress) =>
      forwardToService(req, res, next, address, {
        ...(config.routingMode === 'path' && config.stripPathPrefix ? { stripPrefix: `/${name}` } : {}),
        onUnreachable: () => deps.wake.forget(user.id),
        identity: { cookie: verdict.cookie, user: verdict.user },
      });

    // Just woken, Traefik not caught up yet (its 2 s throttle): serve the page's requests directly.
    const recent = deps.wake.recentAddress(user);
    if (recent) {
      if (isEvents) return streamReady(res, Promise.resolve({ ok: true }), undefined);
      return forward(recent);
    }
    if (isBot(req, config.lifecycle.wakeIgnoreUserAgents)) {
      // Crawlers and uptime checkers must not keep sleeping containers awake.
      return next(new ServiceUnavailable('asleep', 'This service is asleep.', 60));
    }
    res.locals.wakeName = name;
    // The limiters' refusals arrive as errors on these callbacks: hand them to the error handler.
    perClient(req, res, (refused?: unknown) =>
      refused
        ? next(refused)
        : perName(req, res, (refusedForName?: unknown) => {
            if (refusedForName) return next(refusedForName);
            const waking = deps.wake.wake(user);
            if (isEvents) return streamReady(res, waking, deps.progress && { progress: deps.progress, personId: user.id });
            const browser = (req.method === 'GET' || req.method === 'HEAD') && req.accepts(['json', 'html']) === 'html';
            void (async () => {
              // A fast service answers within the hold: the person gets it directly, no starting page.
              const quick = await Promise.race([waking, sleep(config.lifecycle.wakeHoldMs).then(() => null)]);
              const answer = holdOrPage(quick, browser);
              if (answer === 'starting-page') {
                return next(startingPage(res, name, config.routingMode === 'subdomain' ? WAKE_EVENTS_PATH : `/${name}${WAKE_EVENTS_PATH}`));
              }
              // Programs wait for the service; then their request goes through with method and body.
              const result = answer === 'hold-on' ? await waking : quick!;
              if (result.ok) return forward(result.address);
              return next(
                result.busy
                  ? new ServiceUnavailable('too_many_wakes', result.reason, 5)
                  : new ServiceUnavailable('wake_failed', result.reason, 10),
              );
            })().catch(next);
          }),
    );
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function queryOf(req: Request): string {
  const at = req.originalUrl.indexOf('?');
  return at >= 0 ? req.originalUrl.slice(at) : '';
}

/** The "starting…" page: a 503 (the service is not there yet) that reloads itself when it is. */
function startingPage(res: Response, name: string, eventsPath: string): ServiceUnavailable {
  const page = { view: 'wake/starting', locals: { title: `Starting ${name}'s service`, name, eventsPath, nonce: setPageCsp(res) } };
  return new ServiceUnavailable('starting', `${name}'s service is starting.`, 5, { page });
}

function streamReady(
  res: Response,
  waking: Promise<{ ok: boolean; reason?: string }>,
  steps: { progress: Pick<SpawnProgress, 'subscribe' | 'current'>; personId: number } | undefined,
): void {
  res.status(200).set({ 'Content-Type': 'text/event-stream', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  res.write(': waking\n\n');
  const heartbeat = setInterval(() => res.write(': still starting\n\n'), 10_000);
  // Each step of the start as it happens (the page shows its message), this start's so far first.
  const step = (event: { phase: string; message: string }) => {
    if (!res.writableEnded) res.write(`event: progress\ndata: ${JSON.stringify({ phase: event.phase, message: event.message })}\n\n`);
  };
  const unsubscribe = steps?.progress.subscribe(steps.personId, step);
  if (unsubscribe) for (const event of steps!.progress.current(steps!.personId)) step(event);
  const finish = (event: string, data: string) => {
    clearInterval(heartbeat);
    unsubscribe?.();
    if (!res.writableEnded) res.end(`event: ${event}\ndata: ${data}\n\n`);
  };
  res.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe?.();
  });
  void waking.then((result) => (result.ok ? finish('ready', 'ok') : finish('failed', JSON.stringify(result.reason ?? 'failed'))));
}
