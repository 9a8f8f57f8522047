// Lists every route an Express 5 app answers, by walking its router stack, so that smoke and CSRF
// tests cover routes added later without anyone remembering to list them.
import type { Express } from 'express';

export interface RouteInfo {
  /** The full path with parameters filled in with harmless sample values. */
  path: string;
  /** Lowercase methods the route declares (without the catch-all `_all`). */
  methods: string[];
  /** True when the route also has an `.all()` handler (e.g. the 405 answer). */
  hasAll: boolean;
}

interface Layer {
  rawPath?: string;
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

function join(prefix: string, path: string): string {
  const joined = `${prefix.replace(/\/$/, '')}/${path.replace(/^\//, '')}`;
  return joined.length > 1 ? joined.replace(/\/$/, '') || '/' : '/';
}

/** Fills `:param` with `alice`, `*splat` with `x`, and drops the braces of optional parts. */
function sample(path: string): string {
  return path
    .replace(/:[A-Za-z_$][\w$]*/g, 'alice')
    .replace(/\*[A-Za-z_$][\w$]*/g, 'x')
    .replace(/[{}]/g, '');
}

export function listRoutes(app: Express): RouteInfo[] {
  const routes: RouteInfo[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
        routes.push({ path: sample(join(prefix, layer.route.path)), methods, hasAll: Boolean(layer.route.methods._all) });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, join(prefix, layer.rawPath ?? '/'));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '/');
  return routes;
}
