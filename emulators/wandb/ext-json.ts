/**
 * W&B "extended JSON": JSON plus the bare tokens NaN, Infinity and -Infinity (wandb-api.md §4.1).
 * String-typed payloads (history rows, summaryMetrics, config) use it; JSON-typed fields cannot,
 * so `toPlainJsonValue` turns non-finite numbers into the strings "NaN"/"Infinity"/"-Infinity".
 */

function nonFinite(n: number): string {
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

/** Serialise like JSON.stringify, but emit non-finite numbers as bare tokens. */
export function stringifyExtJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : nonFinite(value);
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object': {
      if (Array.isArray(value)) return '[' + value.map(stringifyExtJson).join(', ') + ']';
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue;
        parts.push(JSON.stringify(k) + ': ' + stringifyExtJson(v));
      }
      return '{' + parts.join(', ') + '}';
    }
    default:
      return 'null';
  }
}

/** Deep copy with non-finite numbers as strings, for JSON-typed GraphQL fields. */
export function toPlainJsonValue(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : nonFinite(value);
  if (Array.isArray(value)) return value.map(toPlainJsonValue);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toPlainJsonValue(v);
    return out;
  }
  return value;
}

const SENTINEL = '\u0000wbext:';

/** Parse extended JSON (fixture files). Bare tokens outside strings become numbers. */
export function parseExtJson(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      // copy a whole string literal, escapes included
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const token = ['-Infinity', 'Infinity', 'NaN'].find((t) => text.startsWith(t, i));
    if (token) {
      out += JSON.stringify(SENTINEL + token);
      i += token.length;
      continue;
    }
    out += c;
    i++;
  }
  return JSON.parse(out, (_k, v: unknown) => {
    if (typeof v === 'string' && v.startsWith(SENTINEL)) {
      const t = v.slice(SENTINEL.length);
      return t === 'NaN' ? NaN : t === 'Infinity' ? Infinity : -Infinity;
    }
    return v;
  });
}
