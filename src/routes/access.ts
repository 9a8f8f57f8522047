// Who reaches a person's service, over HTTP. GET /.spawner/verify is Traefik's forwardAuth (the
// request it checks arrives as X-Forwarded-*); GET <base>/authorize hands a logged-in person a
// one-time code for the service's callback; the dashboard's forms make a service public or
// owner-only and share it. The rule itself is services/access.ts; answering a verdict (also for
// the wake route) is here.
import type { RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config.js';
import { personOfRequest, portSuffix, serviceHost, servicePath, spawnerOrigin } from '../addressing.js';
import { CALLBACK_PATH, type Verdict } from '../access/gate.js';
import type { AccessService } from '../services/access.js';
import type { WorkspaceService } from '../services/workspace.js';
import { AccessCodeInvalid, AccessDenied, BadRequest, NotFound, Unauthorized, ValidationError, type AppError } from '../errors.js';
import { flash } from '../middleware/flash.js';
import { setPageCsp } from '../middleware/pageCsp.js';

export interface AccessHandlerDeps {
  config: Readonly<Config>;
  access: AccessService;
  workspace: WorkspaceService;
  reservedNames: readonly string[];
  base: string;
}

type Refusal = Exclude<Verdict, { kind: 'allow' } | { kind: 'not-a-service' }>;

/** Where a refusal is answered: the address asked for, and (on Spawner's own host) what logging out needs. */
export interface RefusalPlace {
  proto: string;
  host: string;
  config: Readonly<Config>;
  /** The URL the person asked for, shown on the page. */
  asked?: string;
  /** On Spawner's own host, with a session: "log out and log in as someone else" comes back here. */
  logout?: { csrfToken: string; next: string };
}

/**
 * Answers every verdict but 'allow': the login redirect or the callback's cookie (302, absolute
 * Location, so Traefik passes it on unchanged), 401 JSON for programs, or the 403 page.
 */
export function answerRefusal(verdict: Refusal, res: Response, where: RefusalPlace): AppError | null {
  res.set('Cache-Control', 'no-store');
  if (verdict.kind === 'login') {
    res.redirect(302, verdict.location);
    return null;
  }
  if (verdict.kind === 'callback') {
    res.set('Set-Cookie', verdict.setCookie).redirect(302, verdict.location);
    return null;
  }
  if (verdict.kind === 'unauthorized') {
    return new Unauthorized('no access cookie', { json: true, publicMessage: 'Log in to Spawner to reach this service.' });
  }
  const scheme = where.proto === 'https' || where.proto === 'wss' ? 'https' : 'http';
  const spawner = `${spawnerOrigin(scheme, where.host, where.config)}${where.config.basePath}`;
  const place = { service: verdict.name, asked: where.asked ?? '', dashboard: `${spawner}/dashboard` };
  if (verdict.kind === 'forbidden') {
    const error = new AccessDenied(`${verdict.user} may not reach ${verdict.name}`);
    const logout = where.logout ? { action: `${where.config.basePath}/logout`, ...where.logout } : null;
    const locals = { title: `Not yours: ${verdict.name}`, code: error.code, message: error.publicMessage, user: verdict.user };
    return new AccessDenied(error.message, {
      page: {
        view: 'access/refused',
        locals: { ...locals, ...place, logout, nonce: setPageCsp(res, { formsToSelf: logout !== null }), linkUrl: '', linkText: '' },
      },
    });
  }
  const error = new AccessCodeInvalid(`bad callback code for ${verdict.name}`);
  const service = `${scheme}://${where.host}${servicePath(where.config, verdict.name)}`;
  const locals = { title: 'Link expired', code: error.code, message: error.publicMessage, user: '' };
  return new AccessCodeInvalid(error.message, {
    page: {
      view: 'access/refused',
      locals: { ...locals, ...place, logout: null, nonce: setPageCsp(res), linkUrl: service, linkText: 'Open the service again' },
    },
  });
}

const visibilityForm = z.object({ visibility: z.enum(['owner', 'public']) });
const shareForm = z.object({ share: z.preprocess((v) => (typeof v === 'string' ? v : ''), z.string()) });
const unshareForm = z.object({ name: z.preprocess((v) => (typeof v === 'string' ? v : ''), z.string()) });

export function accessHandlers(deps: AccessHandlerDeps) {
  const { config, access, base } = deps;

  /** Traefik's forwardAuth: 200 with the filtered Cookie and X-Spawner-User, or the refusal. */
  const verify: RequestHandler = async (req, res, next) => {
    const host = req.get('x-forwarded-host');
    const uri = req.get('x-forwarded-uri');
    if (!host || !uri) throw new BadRequest('a forwardAuth call carries X-Forwarded-Host and X-Forwarded-Uri');
    await access.ready();
    const proto = req.get('x-forwarded-proto') ?? 'http';
    const verdict = access.check({
      host,
      uri,
      proto,
      method: req.get('x-forwarded-method') ?? 'GET',
      accept: req.get('accept'),
      cookie: req.get('cookie'),
    });
    if (verdict.kind === 'not-a-service') throw new NotFound(`${host}${uri} is no person's service`);
    if (verdict.kind !== 'allow') {
      const refusal = answerRefusal(verdict, res, { proto, host, config, asked: `${proto.replace(/^ws/, 'http')}://${host}${uri}` });
      return refusal ? next(refusal) : undefined;
    }
    res.set('Cache-Control', 'no-store');
    if (verdict.cookie) res.set('Cookie', verdict.cookie);
    if (verdict.user) res.set('X-Spawner-User', verdict.user);
    res.status(200).end();
  };

  /** From the login redirect: a logged-in person allowed in goes on to the service's callback with a code. */
  const authorize: RequestHandler = async (req, res) => {
    const next = typeof req.query.next === 'string' ? req.query.next : '';
    const target = serviceTarget(config, deps.reservedNames, next);
    if (!target) throw new BadRequest(`authorize: next is not a person's service: ${next.slice(0, 200)}`);
    await access.ready();
    const user = req.user!;
    if (access.reach(target.name, user.id) !== 'allow') {
      const refusal = answerRefusal({ kind: 'forbidden', name: target.name, user: user.username }, res, {
        proto: req.protocol,
        host: req.host,
        config,
        asked: next,
        // After logging out, the login page leads back here, to this service.
        logout: { csrfToken: res.locals.csrfToken as string, next: req.originalUrl },
      });
      throw refusal!;
    }
    const code = access.issueCode(user.id, target.name);
    const back = encodeURIComponent(`${target.url.pathname}${target.url.search}`);
    res.redirect(302, `${target.url.origin}${servicePath(config, target.name)}${CALLBACK_PATH}?code=${code}&next=${back}`);
  };

  /** The dashboard again, with a message at the field that was wrong. */
  const withFieldError = async (req: Parameters<RequestHandler>[0], error: unknown): Promise<never> => {
    if (!(error instanceof ValidationError)) throw error;
    const view = await deps.workspace.dashboard(req.user!, portSuffix(req.host));
    const locals = { title: `${view.username} · Dashboard`, view, access: access.describe(req.user!), errors: error.fields };
    throw new ValidationError(error.fields, { page: { view: 'dashboard', locals } });
  };

  const setVisibility: RequestHandler = async (req, res) => {
    const parsed = visibilityForm.safeParse(req.body ?? {});
    if (!parsed.success) throw new BadRequest('visibility must be owner or public');
    await access.setVisibility(req.user!, parsed.data.visibility);
    flash(
      req,
      'success',
      parsed.data.visibility === 'public' ? 'Anyone with the link can now open your service.' : 'Only you can open your service now.',
    );
    res.redirect(303, `${base}/dashboard`);
  };

  const share: RequestHandler = async (req, res) => {
    const { share: name } = shareForm.parse(req.body ?? {});
    await access.share(req.user!, name).catch((error: unknown) => withFieldError(req, error));
    flash(req, 'success', `Shared with ${name.trim().toLowerCase()}.`);
    res.redirect(303, `${base}/dashboard`);
  };

  const unshare: RequestHandler = async (req, res) => {
    const { name } = unshareForm.parse(req.body ?? {});
    await access.unshare(req.user!, name).catch((error: unknown) => withFieldError(req, error));
    flash(req, 'success', `${name.trim().toLowerCase()} can no longer open your service.`);
    res.redirect(303, `${base}/dashboard`);
  };

  return { verify, authorize, setVisibility, share, unshare };
}

/** `next` of /authorize: an absolute http(s) URL on a person's service address (no credentials in it). */
function serviceTarget(config: Readonly<Config>, reserved: readonly string[], next: string): { name: string; url: URL } | null {
  let url: URL;
  try {
    url = new URL(next);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) return null;
  const name = personOfRequest(config, { hostname: url.hostname, path: url.pathname }, reserved);
  return name && url.hostname === serviceHost(config, name) ? { name, url } : null;
}
