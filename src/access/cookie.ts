// The per-service access cookie, JupyterHub's per-server cookie simplified: a stateless value
// `<userId>.<expiresAt>.<epoch>.<mac>`, the MAC an HMAC-SHA256 over the service's name, the person,
// the expiry, the person's epoch and the service's epoch, under a key derived from Spawner's secret
// (never the session secret itself). Bumping either epoch ends every cookie minted before it.
// Also: the cookie's name and attributes per routing mode, and the Cookie header minus Spawner's own.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RoutingMode } from '../config.js';

/** Names Spawner's own cookies can have: the session and every access cookie. */
export const SESSION_COOKIE_NAMES = ['spawner.sid', '__Host-spawner.sid'];
const ACCESS_PREFIXES = ['spawner-access', '__Host-spawner-access'];

export function accessKeyFrom(secret: string): Buffer {
  return createHmac('sha256', secret).update('spawner access cookie v1').digest();
}

export interface CookiePlace {
  mode: RoutingMode;
  name: string;
  https: boolean;
}

/** `__Host-spawner-access` (HTTPS) or `spawner-access` per host; `spawner-access-<name>` under /<name>/ in path mode. */
export function accessCookieName(place: CookiePlace): string {
  if (place.mode === 'path') return `spawner-access-${place.name}`;
  return place.https ? '__Host-spawner-access' : 'spawner-access';
}

function mac(key: Buffer, name: string, userId: number, expiresAt: number, epoch: number, serviceEpoch: number): string {
  return createHmac('sha256', key).update(`${name}\n${userId}\n${expiresAt}\n${epoch}\n${serviceEpoch}`).digest('base64url');
}

export interface Minted {
  name: string;
  userId: number;
  epoch: number;
  serviceEpoch: number;
  ttlMs: number;
}

/** A Set-Cookie header line: host-only (never Domain=), HttpOnly, SameSite=Lax, Secure over HTTPS. */
export function mintAccessCookie(key: Buffer, place: CookiePlace, m: Minted, now = Date.now()): string {
  const expiresAt = Math.floor((now + m.ttlMs) / 1000);
  const value = `${m.userId}.${expiresAt}.${m.epoch}.${mac(key, m.name, m.userId, expiresAt, m.epoch, m.serviceEpoch)}`;
  const path = place.mode === 'path' ? `/${place.name}/` : '/';
  const secure = place.https ? '; Secure' : '';
  return `${accessCookieName(place)}=${value}; Path=${path}; Max-Age=${Math.floor(m.ttlMs / 1000)}; HttpOnly; SameSite=Lax${secure}`;
}

/**
 * The person a cookie value vouches for, or null when it is forged, expired or from an older epoch.
 * `epochOf` gives the person's current epoch (undefined: no such person).
 */
export function readAccessCookie(
  key: Buffer,
  value: string,
  service: { name: string; epoch: number },
  epochOf: (userId: number) => number | undefined,
  now = Date.now(),
): number | null {
  const parts = value.split('.');
  if (parts.length !== 4) return null;
  const [idText, expText, epochText, given] = parts as [string, string, string, string];
  if (!/^\d{1,12}$/.test(idText) || !/^\d{1,12}$/.test(expText) || !/^\d{1,12}$/.test(epochText)) return null;
  const userId = Number(idText);
  const expiresAt = Number(expText);
  const epoch = Number(epochText);
  if (expiresAt * 1000 <= now || epochOf(userId) !== epoch) return null;
  const expected = Buffer.from(mac(key, service.name, userId, expiresAt, epoch, service.epoch));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? userId : null;
}

/** Every value a Cookie header carries for `name` (a tossed cookie may come before the real one). */
export function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

function cookieName(part: string): string {
  const eq = part.indexOf('=');
  return (eq >= 0 ? part.slice(0, eq) : part).trim();
}

function isSpawnerCookie(name: string): boolean {
  return SESSION_COOKIE_NAMES.includes(name) || ACCESS_PREFIXES.some((p) => name === p || name.startsWith(`${p}-`));
}

/** The Cookie header without Spawner's session and access cookies; undefined when nothing is left. */
export function withoutSpawnerCookies(header: string | undefined): string | undefined {
  const kept = (header ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !isSpawnerCookie(cookieName(part)));
  return kept.length > 0 ? kept.join('; ') : undefined;
}
