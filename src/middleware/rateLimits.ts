// Abuse limits on the forms that cost bcrypt work or create containers. Only failed logins count,
// so a classroom behind one address is not locked out by its own successful logins.
import type { Request, RequestHandler } from 'express';
import { rateLimit, ipKeyGenerator, type Store } from 'express-rate-limit';
import { TooManyRequests } from '../errors.js';

export type RateLimitStore = Store;

export interface RateLimitOptions {
  loginPerMinute: number;
  signupPerHour: number;
  passwordChecksAtOnce: number;
  /** Builds a store per limiter (prefix distinguishes them); memory when absent. */
  storeFor?: (prefix: string) => Store;
  /** Resolves what was typed at login (name or e-mail) to an account id, so both share one budget. */
  accountOf?: (login: string) => Promise<number | undefined>;
  /** Told of every login refused by a limit (the audit log's lockout row). */
  onLockout?: (req: Request, limit: 'client' | 'account') => void;
}

function tooMany(message: string, tell?: (req: Request) => void): RequestHandler {
  // express-rate-limit has set the RateLimit and Retry-After headers by now.
  return (req, _res, next) => {
    tell?.(req);
    next(new TooManyRequests(message));
  };
}

const clientIp = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');

/**
 * At most `max` requests through at once; the next one is refused at once (429, Retry-After 1)
 * rather than queued: bcrypt's work runs on libuv's four threads, and a queue there would grow
 * without bound and delay every login behind it.
 */
export function atOnce(max: number, message: string): RequestHandler {
  let inFlight = 0;
  return (_req, res, next) => {
    if (inFlight >= max) return next(new TooManyRequests(message, 1));
    inFlight++;
    let released = false;
    const release = () => {
      if (!released) inFlight--;
      released = true;
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };
}

export function createRateLimits(options: RateLimitOptions): {
  login: RequestHandler[];
  signup: RequestHandler[];
  passwordWork: RequestHandler;
} {
  const common = { standardHeaders: 'draft-8' as const, legacyHeaders: false };
  const store = (prefix: string) => (options.storeFor ? { store: options.storeFor(prefix) } : {});
  const loginMessage = 'Too many failed logins. Please wait a minute and try again.';
  const loginPerIp = rateLimit({
    ...common,
    ...store('login-ip:'),
    windowMs: 60_000,
    limit: options.loginPerMinute,
    skipSuccessfulRequests: true,
    keyGenerator: clientIp,
    handler: tooMany(loginMessage, (req) => options.onLockout?.(req, 'client')),
  });
  const loginPerAccount = rateLimit({
    ...common,
    ...store('login-account:'),
    windowMs: 60_000,
    limit: options.loginPerMinute,
    skipSuccessfulRequests: true,
    keyGenerator: async (req) => {
      const typed = String((req.body as Record<string, unknown> | undefined)?.username ?? '')
        .trim()
        .toLowerCase()
        .slice(0, 254);
      const id = typed ? await options.accountOf?.(typed) : undefined;
      return id !== undefined ? `id:${id}` : `name:${typed}`;
    },
    handler: tooMany(loginMessage, (req) => options.onLockout?.(req, 'account')),
  });
  const signupPerIp = rateLimit({
    ...common,
    ...store('signup-ip:'),
    windowMs: 3_600_000,
    limit: options.signupPerHour,
    keyGenerator: clientIp,
    handler: tooMany('Too many new accounts from your address. Please try again later.'),
  });
  // One budget for all password work: logins and signups both hash or compare with bcrypt.
  const passwordWork = atOnce(options.passwordChecksAtOnce, 'Many people are logging in right now. Please try again in a moment.');
  return { login: [loginPerIp, loginPerAccount, passwordWork], signup: [signupPerIp, passwordWork], passwordWork };
}
