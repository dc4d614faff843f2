/**
 * Checks a recorded request against a set of Neptune swagger specs as real servers served them
 * (`../shared/reference/neptune-served-swagger/{2023,minfx}`): the operation exists, every parameter
 * the spec marks required is present (query, header, path, body), query values have the declared
 * type and format, and a JSON body validates against its model (required properties, types, int32
 * and uuid formats, enums, no property the model does not declare unless listed in `EXTRA_ALLOWED`).
 * Written for this test, from the swagger 2.0 rules; it knows nothing of the product's code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedRequest } from './proxy.ts';

interface Param { name: string; in: string; required?: boolean; type?: string; format?: string; schema?: Schema; items?: Schema }
interface Schema {
  $ref?: string; type?: string; format?: string; enum?: unknown[]; required?: string[];
  properties?: Record<string, Schema>; items?: Schema; additionalProperties?: boolean | Schema;
}
interface Operation { parameters?: Param[]; operationId?: string }
interface Spec { paths: Record<string, Record<string, Operation | Param[]>>; definitions: Record<string, Schema> }

/**
 * Properties a served model lacks that the product sends on purpose, each with why. Servers built on
 * Spring/Jackson ignore unknown properties; the official 1.x client sends the same ones.
 */
export const EXTRA_ALLOWED: Record<string, string> = {
  // Newer servers (the 2025 swagger) take the workspace by name; the 2023/minfx models require organizationId.
  'NewProjectDTO.organizationIdentifier': 'newer servers identify the workspace by name',
  // neptune-client 1.x hosted_neptune_backend create_run sends cliVersion in the body.
  'ExperimentCreationParams.cliVersion': 'the official 1.x client sends it',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INT32 = [-(2 ** 31), 2 ** 31 - 1];

export interface SpecSet {
  name: string;
  specs: Spec[];
}

export function loadSpecSet(dir: string, name: string): SpecSet {
  return { name, specs: ['backend', 'leaderboard', 'artifacts'].map((f) => JSON.parse(readFileSync(join(dir, `${f}.json`), 'utf8')) as Spec) };
}

function templateRegex(template: string): RegExp {
  return new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
}

function findOperation(set: SpecSet, method: string, path: string): { spec: Spec; template: string; op: Operation; shared: Param[] } | undefined {
  for (const spec of set.specs) {
    for (const [template, item] of Object.entries(spec.paths)) {
      if (!templateRegex(template).test(path)) continue;
      const op = item[method.toLowerCase()] as Operation | undefined;
      if (op) return { spec, template, op, shared: (item.parameters as Param[] | undefined) ?? [] };
    }
  }
  return undefined;
}

function resolve(spec: Spec, s: Schema): { schema: Schema; model?: string } {
  if (!s.$ref) return { schema: s };
  const model = s.$ref.replace('#/definitions/', '');
  return { schema: spec.definitions[model] ?? {}, model };
}

function checkScalar(v: unknown, type: string | undefined, format: string | undefined, where: string): string | undefined {
  switch (type) {
    case 'string':
      if (typeof v !== 'string') return `${where} must be a string`;
      if (format === 'uuid' && !UUID.test(v)) return `${where} must be a uuid, got "${v}"`;
      return undefined;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return `${where} must be an integer, got ${JSON.stringify(v)}`;
      if (format === 'int32' && (v < INT32[0] || v > INT32[1])) return `${where} must be an int32, got ${v}`;
      if (!Number.isSafeInteger(v)) return `${where} is an integer beyond ±2^53, got ${v}`;
      return undefined;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : `${where} must be a number`;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `${where} must be a boolean`;
    default:
      return undefined;
  }
}

export function validateValue(spec: Spec, s: Schema, v: unknown, where: string, out: string[]): void {
  const { schema, model } = resolve(spec, s);
  if (schema.enum && !schema.enum.includes(v)) {
    out.push(`${where} must be one of ${schema.enum.join(', ')}, got ${JSON.stringify(v)}`);
    return;
  }
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  if (type === 'object') {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      out.push(`${where} must be an object${model ? ` (${model})` : ''}`);
      return;
    }
    const o = v as Record<string, unknown>;
    for (const r of schema.required ?? []) if (o[r] === undefined || o[r] === null) out.push(`${where}.${r} is required${model ? ` by ${model}` : ''}`);
    for (const [k, val] of Object.entries(o)) {
      const prop = schema.properties?.[k];
      if (prop) {
        if (val !== null) validateValue(spec, prop, val, `${where}.${k}`, out);
      } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        validateValue(spec, schema.additionalProperties, val, `${where}.${k}`, out);
      } else if (schema.properties && !(model && EXTRA_ALLOWED[`${model}.${k}`])) {
        out.push(`${where}.${k} is not a property of ${model ?? 'the model'}`);
      }
    }
    return;
  }
  if (type === 'array') {
    if (!Array.isArray(v)) {
      out.push(`${where} must be an array`);
      return;
    }
    v.forEach((item, i) => schema.items && validateValue(spec, schema.items, item, `${where}[${i}]`, out));
    return;
  }
  const p = checkScalar(v, type, schema.format, where);
  if (p) out.push(p);
}

/** A query or header value (text on the wire) against its declared type and format. */
function valueProblem(p: Param, raw: string, where: string): string | undefined {
  switch (p.type) {
    case 'integer':
      return /^-?\d+$/.test(raw) ? checkScalar(Number(raw), 'integer', p.format, where) : `${where} must be an integer, got "${raw}"`;
    case 'number':
      return Number.isFinite(Number(raw)) && raw.trim() !== '' ? undefined : `${where} must be a number, got "${raw}"`;
    case 'boolean':
      // Spring converts true/false in any case.
      return /^(true|false)$/i.test(raw) ? undefined : `${where} must be a boolean, got "${raw}"`;
    case 'string':
      return checkScalar(raw, 'string', p.format, where);
    default:
      return undefined;
  }
}

/** Problems of one request against one spec set; empty when it conforms. */
export function checkRequest(set: SpecSet, r: RecordedRequest): string[] {
  const found = findOperation(set, r.method, r.path);
  if (!found) return [`${r.method} ${r.path}: no such operation in the ${set.name} specs`];
  const { spec, op, shared, template } = found;
  const name = `${op.operationId ?? template} (${r.method} ${r.path})`;
  const out: string[] = [];
  const headers = new Map(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v[0] : v]));
  for (const p of [...shared, ...(op.parameters ?? [])]) {
    if (p.in === 'query') {
      const raw = r.query.get(p.name);
      if (raw === null) {
        if (p.required) out.push(`query ${p.name} is required`);
      } else {
        const problem = valueProblem(p, raw, `query ${p.name}`);
        if (problem) out.push(problem);
      }
    } else if (p.in === 'header') {
      const raw = headers.get(p.name.toLowerCase());
      if (raw === undefined) {
        if (p.required) out.push(`header ${p.name} is required`);
      } else {
        const problem = valueProblem(p, raw, `header ${p.name}`);
        if (problem) out.push(problem);
      }
    } else if (p.in === 'body') {
      const text = r.body.toString('utf8');
      if (text.length === 0) {
        if (p.required) out.push(`body ${p.name} is required`);
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        out.push(`body ${p.name} is not JSON`);
        continue;
      }
      if (p.schema) validateValue(spec, p.schema, json, `body ${p.name}`, out);
    }
  }
  return out.map((p) => `${name}: ${p}`);
}
