/** Finds the route of a request: exact `METHOD /path` keys first, then `{name}` path templates. */
import type { Route } from './routes.ts';

export interface Match { key: string; route: Route; params: Record<string, string> }

interface Template { method: string; re: RegExp; names: string[]; key: string; route: Route }

export function makeRouter(routes: Record<string, Route>): (method: string, pathname: string) => Match | undefined {
  const templates: Template[] = [];
  for (const [key, route] of Object.entries(routes)) {
    if (!key.includes('{')) continue;
    const [method, path] = key.split(' ');
    const names: string[] = [];
    const pattern = path.split('/').map((seg) => {
      const m = /^\{(\w+)\}$/.exec(seg);
      if (!m) return seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(m[1]);
      return '([^/]+)';
    }).join('/');
    templates.push({ method, re: new RegExp(`^${pattern}$`), names, key, route });
  }
  return (method, pathname) => {
    const key = `${method} ${pathname}`;
    if (routes[key]) return { key, route: routes[key], params: {} };
    for (const t of templates) {
      if (t.method !== method) continue;
      const m = t.re.exec(pathname);
      if (m) return { key: t.key, route: t.route, params: Object.fromEntries(t.names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
    }
    return undefined;
  };
}
