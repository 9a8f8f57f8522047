// A person can only act on their own container (issue 5, point 7): no route takes a container id
// or name from the request. Checked two ways: the app's real route table (no path parameters),
// and the route modules' source (container operations only ever receive the logged-in person).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';

interface RouteEntry {
  path: string;
  methods: string[];
}

interface LayerLike {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
}

/** Every route of an Express 5 app, found by walking the router stack (mounted routers included). */
function routesOf(app: TestApp['app']): RouteEntry[] {
  const found: RouteEntry[] = [];
  const walk = (stack: LayerLike[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
        found.push({ path: String(layer.route.path), methods: methods.map((m) => m.toUpperCase()) });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: LayerLike[] } }).router.stack);
  return found;
}

/**
 * Routes allowed to read a name from the URL, each with the reason. Empty today; a wake-on-request
 * route would belong here, and may only start an existing person's stopped container, never stop,
 * restart or remove one.
 */
const ROUTES_WITH_PARAMETERS_ALLOWED: string[] = [];

const apps: TestApp[] = [];
afterAll(() => apps.forEach((t) => t.close()));

describe('the route table', () => {
  for (const mode of ['subdomain', 'path'] as const) {
    it(`when the app is built in ${mode} mode, then no route has a path parameter that could name a container`, () => {
      const t = buildTestApp({ env: { ROUTING_MODE: mode } });
      apps.push(t);
      const routes = routesOf(t.app);
      // Sanity: the walk sees the container buttons, so an empty or partial walk cannot pass.
      expect(routes).toEqual(
        expect.arrayContaining([
          { path: '/container/restart', methods: ['POST'] },
          { path: '/container/start', methods: ['POST'] },
          { path: '/dashboard', methods: ['GET'] },
        ]),
      );
      const withParameters = routes.filter((r) => /[:*(?]/.test(r.path) && !ROUTES_WITH_PARAMETERS_ALLOWED.includes(r.path));
      expect(withParameters).toEqual([]);
    });
  }
});

describe('the route modules', () => {
  const folder = join(import.meta.dirname, '..', '..', 'src', 'routes');
  const sources = readdirSync(folder)
    .filter((f) => f.endsWith('.ts'))
    .map((file) => ({ file, text: readFileSync(join(folder, file), 'utf8') }));

  it('when read, then no route reads URL parameters', () => {
    expect(sources.length).toBeGreaterThan(0);
    for (const { file, text } of sources) expect(text, file).not.toMatch(/req\.params/);
  });

  it('when read, then container operations only ever get the logged-in person, never something from the request', () => {
    let calls = 0;
    for (const { file, text } of sources) {
      // Routes reach containers only through the workspace service.
      expect(text, file).not.toMatch(/\bcontainers\.\w+\(/);
      for (const match of text.matchAll(/\bworkspace\.(\w+)\(([^,)]*)/g)) {
        calls++;
        // The person is the first argument: `req.user` comes from the session, `user` is what
        // signup or login just verified. Nothing else may say whose container it is.
        expect(['req.user!', 'user'], `${file}: workspace.${match[1]}(${match[2]}…)`).toContain(match[2]?.trim());
      }
    }
    expect(calls).toBeGreaterThanOrEqual(3);
  });
});
