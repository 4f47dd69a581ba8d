// The controller's routes, read from the server itself (fastify's printRoutes tree), so a new
// route is covered by the security and fuzz tests without being listed by hand.
import type { FastifyInstance } from 'fastify';

export interface Route { path: string; methods: string[] }

export function routesOf(app: FastifyInstance): Route[] {
  const out: Route[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    if (m[3]) out.push({ path: stack.join(''), methods: m[3].split(', ').filter((x) => x !== 'HEAD') });
  }
  return out;
}

/** A concrete path for a route pattern: each `:param` from `fill`. */
export function concrete(path: string, fill: (param: string) => string): string {
  return path.replace(/:(\w+)/g, (_m, p: string) => encodeURIComponent(fill(p))).replace(/\*$/, 'index.html');
}
