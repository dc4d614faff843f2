/**
 * Value helpers shared by the log and the JSON files around it: W&B writes extended JSON (bare `NaN`,
 * `Infinity`, `-Infinity`; parsed by the sources' one parser) and addresses values by key or nested path.
 */
import { extendedJsonText, parseExtendedJson } from '../extended-json.ts';

/** Parses a `value_json`; undecodable text is kept as the raw string (reported by the caller). */
export function parseValue(text: string): { ok: true; value: unknown } | { ok: false; value: string } {
  if (text === '') return { ok: true, value: null };
  try {
    return { ok: true, value: parseExtendedJson(text) };
  } catch {
    return { ok: false, value: text };
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The path an item addresses: `nested_key` when present, else `[key]`. */
export function itemPath(it: { key: string; nestedKey: string[] }): string[] {
  return it.nestedKey.length > 0 ? it.nestedKey : [it.key];
}

/** Sets `path` in `obj`, creating (or replacing non-object) intermediate levels. */
export function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const next = cur[path[i]];
    if (!isPlainObject(next)) {
      const created: Record<string, unknown> = {};
      cur[path[i]] = created;
      cur = created;
    } else cur = next;
  }
  cur[path[path.length - 1]] = value;
}

export function removePath(obj: Record<string, unknown>, path: string[]): void {
  let cur: unknown = obj;
  for (let i = 0; i < path.length - 1; i++) {
    if (!isPlainObject(cur)) return;
    cur = cur[path[i]];
  }
  if (isPlainObject(cur)) delete cur[path[path.length - 1]];
}

/** A finite-or-not number from a JSON value (numbers and booleans); undefined otherwise. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/**
 * Flattens numeric leaves of `v` under `prefix` with `.` (stats values such as `network: {sent, recv}`).
 * A leaf that is not a number (a string, null, a list, an empty object) goes to `unsupported` with its
 * JSON text, so that it becomes a report line rather than vanishing.
 */
export function flattenNumbers(prefix: string, v: unknown, out: Record<string, number>, unsupported: Record<string, string>): void {
  const n = toNumber(v);
  if (n !== undefined) out[prefix] = n;
  else if (isPlainObject(v) && Object.keys(v).length > 0) for (const [k, x] of Object.entries(v)) flattenNumbers(`${prefix}.${k}`, x, out, unsupported);
  else unsupported[prefix] = extendedJsonText(v);
}

/** Seconds since the epoch → ISO 8601 UTC. */
export function isoFromSeconds(s: number): string {
  return new Date(Math.round(s * 1000)).toISOString();
}

