/**
 * Request validators for `executeOperations`, derived from the served leaderboard spec's `Operation`
 * model and the models it references (2023 leaderboard.json, via served-models.ts): the operations the
 * emulator accepts are exactly the ones its served spec declares.
 */
import { isPlainObject } from './http-util.ts';
import type { Schema } from './openapi.ts';
import { servedDefinitions } from './served-models.ts';

export type FieldKind =
  | 'string' | 'int32' | 'int64' | 'double' | 'bool' | 'stringArray'
  | 'floatEntries' | 'stringEntries' | 'imageEntries' | 'image';

export interface ModelSpec {
  /** Swagger definition name. */
  model: string;
  required: string[];
  fields: Record<string, FieldKind>;
}

const DEFS = servedDefinitions('leaderboard');
const refName = (s: Schema | undefined) => String(s?.$ref ?? '').replace('#/definitions/', '');
/** Entry models of the series operations, by the FieldKind that names their arrays. */
const ENTRY_KIND: Record<string, FieldKind> = { LogFloatEntry: 'floatEntries', LogStringEntry: 'stringEntries', LogImageEntry: 'imageEntries' };

/** A served property as the validator checks it. */
export function fieldKind(p: Schema, where: string): FieldKind {
  const type = p.type;
  if (type === 'string') return 'string';
  if (type === 'boolean') return 'bool';
  if (type === 'number') return 'double';
  if (type === 'integer') return p.format === 'int32' ? 'int32' : 'int64';
  if (type === 'array') {
    const items = p.items as Schema | undefined;
    if (items?.type === 'string') return 'stringArray';
    const kind = ENTRY_KIND[refName(items)];
    if (kind) return kind;
  }
  if (refName(p) === 'Image') return 'image';
  throw new Error(`served model ${where} has a property shape the validator does not know`);
}

function modelSpec(name: string): ModelSpec {
  const d = DEFS[name];
  if (!d) throw new Error(`served-models.json has no leaderboard model ${name}`);
  const props = (d.properties ?? {}) as Record<string, Schema>;
  return {
    model: name,
    required: (d.required as string[] | undefined) ?? [],
    fields: Object.fromEntries(Object.entries(props).map(([k, p]) => [k, fieldKind(p, `${name}.${k}`)])),
  };
}

/** Operation wire key → body model. */
export const OPERATION_MODELS: Record<string, ModelSpec> = Object.fromEntries(
  Object.entries((DEFS.Operation.properties ?? {}) as Record<string, Schema>)
    .filter(([k]) => k !== 'path')
    .map(([k, p]) => [k, modelSpec(refName(p))]),
);

/** Series entry models referenced by the log* operations. */
export const ENTRY_MODELS: Record<string, ModelSpec> = Object.fromEntries(
  Object.entries(ENTRY_KIND).map(([model, kind]) => [kind, modelSpec(model)]),
);
export const IMAGE_MODEL: ModelSpec = modelSpec('Image');

export const OPERATION_KEYS = Object.keys(OPERATION_MODELS);
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export type OperationErrorType = 'metadata_inconsistency' | 'logSeriesValueError' | 'assignFloatValueError';

/** The request is broken as a whole (→ 400, nothing applied). */
export class MalformedRequest extends Error {}

export interface ValidOp { path: string; key: string; body: Record<string, unknown> }
export interface InvalidOp { path: string; key: string; errorType: OperationErrorType; errorDescription: string }

/** Structural check of one array element: an object with at most `path` + exactly one known op key. */
export function splitOperation(raw: unknown, index: number): { key: string; path: unknown; body: unknown } {
  if (!isPlainObject(raw)) throw new MalformedRequest(`operations[${index}] is not an object`);
  const keys = Object.keys(raw).filter((k) => k !== 'path');
  const unknown = keys.filter((k) => !(k in OPERATION_MODELS));
  if (unknown.length > 0) throw new MalformedRequest(`operations[${index}] has unknown operation key '${unknown[0]}'`);
  if (keys.length !== 1) {
    throw new MalformedRequest(`operations[${index}] must have exactly one operation key, found ${keys.length === 0 ? 'none' : keys.join(', ')}`);
  }
  return { key: keys[0], path: raw.path, body: raw[keys[0]] };
}

/** Path rules: non-empty, no leading/trailing '/', no empty segments, at most `pathMax` characters. */
export function pathProblem(path: unknown, pathMax: number): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'path is missing or empty';
  if (path.length > pathMax) return `path is longer than ${pathMax} characters`;
  if (path.startsWith('/') || path.endsWith('/')) return 'path must not start or end with "/"';
  if (path.split('/').some((s) => s.length === 0)) return 'path has an empty segment';
  return undefined;
}

function kindProblem(v: unknown, kind: FieldKind, where: string): string | undefined {
  switch (kind) {
    case 'string': return typeof v === 'string' ? undefined : `${where} must be a string`;
    case 'bool': return typeof v === 'boolean' ? undefined : `${where} must be a boolean`;
    case 'double': return typeof v === 'number' && Number.isFinite(v) ? undefined : `${where} must be a finite number`;
    case 'int32':
      return typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX ? undefined : `${where} must be an int32 (${INT32_MIN}..${INT32_MAX})`;
    case 'int64': return typeof v === 'number' && Number.isSafeInteger(v) ? undefined : `${where} must be an integer`;
    case 'stringArray':
      return Array.isArray(v) && v.every((s) => typeof s === 'string') ? undefined : `${where} must be an array of strings`;
    case 'image': return modelProblem(v, IMAGE_MODEL, where);
    case 'floatEntries': case 'stringEntries': case 'imageEntries': {
      if (!Array.isArray(v)) return `${where} must be an array`;
      const plainlyValid = kind === 'floatEntries' ? isValidFloatEntry : kind === 'stringEntries' ? isValidStringEntry : undefined;
      for (let i = 0; i < v.length; i++) {
        // Hot path: a quick sufficient check; anything it does not accept goes through the generic
        // model check, which finds the same problem and words it.
        if (plainlyValid?.(v[i])) continue;
        const p = modelProblem(v[i], ENTRY_MODELS[kind], `${where}[${i}]`);
        if (p) return p;
      }
      return undefined;
    }
  }
}

/** True only for a LogFloatEntry that `modelProblem` would accept (never the other way round). */
function isValidFloatEntry(e: unknown): boolean {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
  const o = e as Record<string, unknown>;
  const step = o.step;
  return typeof o.value === 'number' && Number.isFinite(o.value) && Number.isSafeInteger(o.timestampMilliseconds)
    && (step === undefined || step === null || (typeof step === 'number' && Number.isFinite(step)));
}

/** True only for a LogStringEntry that `modelProblem` would accept. */
function isValidStringEntry(e: unknown): boolean {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
  const o = e as Record<string, unknown>;
  const step = o.step;
  return typeof o.value === 'string' && Number.isSafeInteger(o.timestampMilliseconds)
    && (step === undefined || step === null || (typeof step === 'number' && Number.isFinite(step)));
}

export function modelProblem(v: unknown, spec: ModelSpec, where: string): string | undefined {
  if (!isPlainObject(v)) return `${where} must be an object (${spec.model})`;
  for (const r of spec.required) if (v[r] === undefined || v[r] === null) return `${where}.${r} is required`;
  for (const [f, kind] of Object.entries(spec.fields)) {
    if (v[f] === undefined || v[f] === null) continue;
    const p = kindProblem(v[f], kind, `${where}.${f}`);
    if (p) return p;
  }
  return undefined;
}

/** Which OperationError type the server reports for a body that fails validation. */
export function errorTypeFor(key: string): OperationErrorType {
  if (key === 'assignFloat') return 'assignFloatValueError';
  if (key.startsWith('log')) return 'logSeriesValueError';
  return 'metadata_inconsistency';
}

/** Per-operation validation (model + path); structural problems were already thrown by splitOperation. */
export function validateOperation(raw: unknown, index: number, pathMax: number): ValidOp | InvalidOp {
  const { key, path, body } = splitOperation(raw, index);
  const shownPath = typeof path === 'string' ? path : String(path);
  const pp = pathProblem(path, pathMax);
  if (pp) return { path: shownPath, key, errorType: 'metadata_inconsistency', errorDescription: `Invalid attribute path '${shownPath}': ${pp}` };
  const mp = modelProblem(body, OPERATION_MODELS[key], key);
  if (mp) return { path: shownPath, key, errorType: errorTypeFor(key), errorDescription: `Attribute '${shownPath}': ${mp}` };
  return { path: shownPath, key, body: body as Record<string, unknown> };
}
