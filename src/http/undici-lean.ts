import { createRequire } from 'node:module';
import type { Dispatcher } from 'undici';

// undici's package entry (index.js) loads all of undici: fetch, cookies, WebSocket, mocks, caches, HTTP/2,
// proxies — 80-160 ms of a migration's start (CPU profile of `migrate`, Node 20 and 24), for the two pieces
// the client uses: the connection-pooling Agent and `request`. These are those two modules alone
// (~30 ms). The package has no "exports" map, so its files are addressable; undici's own entry does the
// same (`require('./lib/dispatcher/agent')`, `require('./lib/api/api-request')`). The types stay the
// public ones; src/http/undici-lean.test.ts checks that these are the objects the entry exports.
const require = createRequire(import.meta.url);

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof import('undici').Agent;
const apiRequest = require('undici/lib/api/api-request.js') as (this: Dispatcher, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

export type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & { method: Dispatcher.HttpMethod };

/** undici's `request(url, { dispatcher, … })`: the URL split into origin and path as its entry splits it. */
export function request(dispatcher: Dispatcher, url: string, opts: RequestOptions): Promise<Dispatcher.ResponseData> {
  const u = new URL(url);
  return apiRequest.call(dispatcher, { ...opts, origin: u.origin, path: `${u.pathname}${u.search}` });
}
