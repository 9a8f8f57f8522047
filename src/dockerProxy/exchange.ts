// How the proxy turns a client's request into the one it sends Docker: checked by the policy, the
// body re-serialized, only framing headers of its own; and Docker's answer headers passed back
// without the hop-by-hop ones. Shared by ordinary requests (server.ts) and upgrades (hijack.ts).
import type { IncomingMessage } from 'node:http';
import { decide, routeRequest, type ProxyRules } from './policy.js';
import { BadBody, parseBody, upstreamBody } from './requestBody.js';

/** Hop-by-hop headers: about one connection, never passed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

/** Docker's own error shape, so clients (dockerode, the CLI) show the reason. */
export function errorBody(reason: string): string {
  return JSON.stringify({ message: `refused by Spawner's Docker proxy: ${reason}` });
}

export function pathOf(url: string | undefined): string {
  return (url ?? '').split('?')[0]!.slice(0, 300);
}

/** The request as it goes to Docker, or why it does not (400 or 403). */
export type Checked = { ok: true; upstreamUrl: string; body: Buffer | undefined } | { ok: false; status: number; reason: string };

export function checkRequest(req: IncomingMessage, raw: Buffer | undefined, rules: ProxyRules): Checked {
  const route = routeRequest(req.method ?? '', req.url ?? '', rules);
  if (!route.allowed) return { ok: false, status: route.status, reason: route.reason };
  let body;
  try {
    body = raw === undefined ? undefined : parseBody(route.body, raw);
  } catch (error) {
    if (error instanceof BadBody) return { ok: false, status: 400, reason: error.message };
    throw error;
  }
  const decision = decide(req.method ?? '', req.url ?? '', body, rules);
  if (!decision.allowed) return { ok: false, status: decision.status, reason: decision.reason };
  return { ok: true, upstreamUrl: decision.upstreamUrl, body: upstreamBody(body) };
}

/** The headers sent to Docker: framing for the checked body, nothing of the client's connection. */
export function upstreamHeaders(req: IncomingMessage, body: Buffer | undefined): Record<string, string> {
  const headers: Record<string, string> = { host: 'docker' };
  if (body !== undefined) {
    headers['content-type'] = req.headers['content-type'] ?? 'application/json';
    headers['content-length'] = String(body.length);
  }
  if (req.headers['user-agent']) headers['user-agent'] = req.headers['user-agent'];
  return headers;
}

export function passOnHeaders(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(key)) out[key] = value;
  return out;
}
