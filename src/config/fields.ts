// The building blocks of the env schema: each turns one variable's text into a checked value with
// a readable message, so every setting's error reads alike. Feature settings (config/*.ts) use them too.
import { z } from 'zod';

export const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
export const DNS_LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// Docker names (networks, images, entrypoints): a conservative allowlist, since they end up in labels.
export const DOCKER_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
export const IMAGE_RE = /^[a-z0-9][a-z0-9._/:@-]{0,254}$/i;
export const LABEL_KEY_RE = /^[a-z0-9][a-z0-9._-]{0,127}$/;
export const LABEL_VALUE_RE = /^[a-zA-Z0-9 ._:/@=-]{0,256}$/;

export const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const s = v.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      ctx.addIssue({ code: 'custom', message: `must be true or false (got "${v}")` });
      return z.NEVER;
    });

export const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      if (!/^\d+$/.test(v.trim())) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number (got "${v}")` });
        return z.NEVER;
      }
      const n = Number(v.trim());
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max} (got ${n})` });
        return z.NEVER;
      }
      return n;
    });

export const unit = (fallback: string, parse: (s: string) => number | null, what: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const raw = v === undefined || v.trim() === '' ? fallback : v.trim();
      const n = parse(raw);
      if (n === null) {
        ctx.addIssue({ code: 'custom', message: `must be ${what} (got "${raw}")` });
        return z.NEVER;
      }
      return n;
    });

export const pattern = (fallback: string, re: RegExp, what: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const raw = v === undefined || v.trim() === '' ? fallback : v.trim();
      if (!re.test(raw)) {
        ctx.addIssue({ code: 'custom', message: `must be ${what} (got "${raw}")` });
        return z.NEVER;
      }
      return raw;
    });

export const optionalPattern = (re: RegExp, what: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      if (!re.test(v.trim())) {
        ctx.addIssue({ code: 'custom', message: `must be ${what} (got "${v}")` });
        return z.NEVER;
      }
      return v.trim();
    });

export const list = (re: RegExp, what: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const items = (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = items.filter((s) => !re.test(s));
      if (bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `must be ${what} (bad: ${bad.join(', ')})` });
        return z.NEVER;
      }
      return items;
    });

export const labelMap = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const labels: Record<string, string> = {};
    for (const pair of (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const eq = pair.indexOf('=');
      const key = eq > 0 ? pair.slice(0, eq) : '';
      const value = eq > 0 ? pair.slice(eq + 1) : '';
      if (!LABEL_KEY_RE.test(key) || !LABEL_VALUE_RE.test(value) || key.startsWith('traefik.') || key.startsWith('spawner.managed')) {
        ctx.addIssue({ code: 'custom', message: `must be key=value pairs of plain label names (bad: "${pair}")` });
        return z.NEVER;
      }
      labels[key] = value;
    }
    return labels;
  });
