// CSRF protection for every form, without a session row for every visitor. A logged-in person's
// forms carry the session's synchronizer token (csrf-sync). An anonymous visitor's forms (login,
// signup) carry a signed double-submit token instead: a random nonce in a cookie and
// `nonce.HMAC(nonce)` in the form, so looking at the login page writes nothing to the database
// (1,000 cookieless GETs add no session). The pre-login token is worthless after login.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { csrfSync } from 'csrf-sync';
import { CsrfFailed } from '../errors.js';

export const ANONYMOUS_CSRF_COOKIE = 'spawner.csrf';

export interface Csrf {
  /** The token to put into the forms of the page being rendered. */
  tokenFor(req: Request, res: Response): string;
  /** Refuses a POST whose form token does not match (403 csrf_failed). */
  protect: RequestHandler;
}

const formToken = (req: Request) => (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined;

export function createCsrf(options: { secret: string; cookiePath: string }): Csrf {
  // A key of its own, derived from the session secret: a CSRF token can never be a session signature.
  const key = createHmac('sha256', options.secret).update('spawner csrf v1').digest();
  const sign = (nonce: string) => `${nonce}.${createHmac('sha256', key).update(nonce).digest('base64url')}`;
  const { csrfSynchronisedProtection, generateToken } = csrfSync({ getTokenFromRequest: formToken });
  const hasSession = (req: Request) => req.isAuthenticated?.() === true;

  const anonymousNonce = (req: Request): string | undefined => {
    const value = (req.headers.cookie ?? '')
      .split(';')
      .map((part) => part.trim())
      .find((part) => part.startsWith(`${ANONYMOUS_CSRF_COOKIE}=`))
      ?.slice(ANONYMOUS_CSRF_COOKIE.length + 1);
    return value && /^[A-Za-z0-9_-]{22,64}$/.test(value) ? value : undefined;
  };

  const tokenFor = (req: Request, res: Response): string => {
    if (hasSession(req)) return generateToken(req);
    let nonce = anonymousNonce(req);
    if (!nonce) {
      nonce = randomBytes(18).toString('base64url');
      res.cookie(ANONYMOUS_CSRF_COOKIE, nonce, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: options.cookiePath });
    }
    return sign(nonce);
  };

  const protect: RequestHandler = (req, res, next) => {
    if (hasSession(req)) return csrfSynchronisedProtection(req, res, next);
    const nonce = anonymousNonce(req);
    const sent = formToken(req);
    if (!nonce || typeof sent !== 'string') return next(new CsrfFailed('anonymous csrf token missing'));
    const expected = Buffer.from(sign(nonce));
    const given = Buffer.from(sent);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return next(new CsrfFailed('anonymous csrf token wrong'));
    next();
  };

  return { tokenFor, protect };
}
