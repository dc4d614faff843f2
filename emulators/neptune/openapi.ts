/**
 * Each route's swagger operation (parameters, body, response), declared once: the router enforces
 * what it marks required and `swagger.ts` serves it, so what is served and what is enforced cannot
 * drift. Declarations follow the 2023 served specs
 * (`/work/shared/reference/neptune-served-swagger/2023/{backend,leaderboard,artifacts}.json`);
 * `openapi.test.ts` compares every operation with them.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-util.ts';

export type ApiName = 'backend' | 'leaderboard' | 'artifacts';
export type Schema = Record<string, unknown>;

export interface Param {
  name: string;
  in: 'query' | 'header' | 'path' | 'body';
  required: boolean;
  type?: string;
  format?: string;
  items?: { type: string };
  collectionFormat?: 'multi';
  enum?: string[];
  default?: unknown;
  schema?: Schema;
}

export interface OpSpec {
  api: ApiName;
  params: Param[];
  /** The 200 response schema; absent = no schema (`{}` in the served spec). */
  response?: Schema;
  consumes?: string[];
  produces?: string[];
  /**
   * Parameters the served (2.x) spec marks required but a 3.x server does not enforce, because the
   * 3.x spec has them optional and its clients omit them: served as required, not checked.
   */
  optionalOn3x?: string[];
}

type Extra = Partial<Omit<Param, 'name' | 'in' | 'required'>>;
const JSON_T = ['application/json'];

export const ref = (model: string): Schema => ({ $ref: `#/definitions/${model}` });
export const arrayOf = (model: string): Schema => ({ type: 'array', items: ref(model) });

export const q = (name: string, type = 'string', extra: Extra = {}): Param => ({ name, in: 'query', required: false, type, ...extra });
export const rq = (name: string, type = 'string', extra: Extra = {}): Param => ({ ...q(name, type, extra), required: true });
export const qa = (name: string): Param => q(name, 'array', { items: { type: 'string' }, collectionFormat: 'multi' });
export const int32 = (name: string, required = false): Param => ({ ...q(name, 'integer', { format: 'int32' }), required });
export const int64 = (name: string, required = false): Param => ({ ...q(name, 'integer', { format: 'int64' }), required });
export const hdr = (name: string, required = false, type = 'string'): Param => ({ name, in: 'header', required, type });
export const pathP = (name: string): Param => ({ name, in: 'path', required: true, type: 'string' });
export const body = (name: string, schema: Schema): Param => ({ name, in: 'body', required: true, schema });

/** The leaderboard's "one of experimentId / holderIdentifier(+holderType)" selector, none required by the spec. */
export const HOLDER = [q('experimentId'), q('holderIdentifier'), q('holderType')];

export const backend = (params: Param[], response?: Schema): OpSpec => ({ api: 'backend', params, response });
/** Leaderboard reads: `produces: application/json`, no `consumes` (as served). */
export const lbGet = (params: Param[], response?: Schema, produces = JSON_T): OpSpec => ({ api: 'leaderboard', params, response, produces });
/** Leaderboard writes: `consumes` and `produces` JSON (as served, even for the byte uploads). */
export const lbPost = (params: Param[], response?: Schema): OpSpec => ({ api: 'leaderboard', params, response, consumes: JSON_T, produces: JSON_T });
export const artifacts = (params: Param[], response?: Schema): OpSpec => ({ api: 'artifacts', params, response, consumes: JSON_T, produces: JSON_T });

const INT_RE = /^[+-]?\d+$/;

/**
 * What Spring MVC answers for a request that lacks a required parameter or sends one it cannot
 * convert: 400 before the handler runs (MissingServletRequestParameterException,
 * MissingRequestHeaderException, HttpMessageNotReadableException, MethodArgumentTypeMismatchException).
 * The messages are Spring's own wording.
 */
export function checkParams(spec: OpSpec, req: IncomingMessage, query: URLSearchParams, pathParams: Record<string, string>): void {
  for (const p of spec.params) {
    let value: string | undefined;
    if (p.in === 'query') value = query.get(p.name) ?? undefined;
    else if (p.in === 'path') value = pathParams[p.name];
    else if (p.in === 'header') {
      const h = req.headers[p.name.toLowerCase()];
      value = Array.isArray(h) ? h[0] : h;
    } else {
      const len = Number(req.headers['content-length'] ?? 0);
      const chunked = /chunked/i.test(String(req.headers['transfer-encoding'] ?? ''));
      if (p.required && !chunked && !(len > 0)) throw new HttpError(400, 'Required request body is missing');
      continue;
    }
    if (value === undefined) {
      if (!p.required || spec.optionalOn3x?.includes(p.name)) continue;
      const what = p.in === 'header' ? 'request header' : 'request parameter';
      throw new HttpError(400, `Required ${what} '${p.name}' for method parameter type ${javaType(p)} is not present`);
    }
    const bad = (p.type === 'integer' && !INT_RE.test(value.trim()))
      || (p.type === 'boolean' && !/^(true|false)$/i.test(value.trim()))
      || (p.format === 'uuid' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value.trim()))
      || (p.enum !== undefined && !p.enum.includes(value));
    if (bad) {
      throw new HttpError(400, `Failed to convert value of type 'java.lang.String' to required type '${javaType(p)}'; Invalid value '${value}' for '${p.name}'`);
    }
  }
}

function javaType(p: Param): string {
  if (p.type === 'integer') return p.format === 'int64' ? 'Long' : 'Integer';
  if (p.type === 'boolean') return 'Boolean';
  if (p.type === 'array') return 'List';
  return p.format === 'uuid' ? 'UUID' : 'String';
}
