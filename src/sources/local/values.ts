/**
 * Value helpers shared by the log and the JSON files around it: W&B writes JSON with Python's
 * non-standard `NaN`, `Infinity` and `-Infinity` tokens, and addresses values by key or nested path.
 */

// Sentinels stand in for the non-standard tokens during JSON.parse; a reviver turns them back.
const SENTINELS: Record<string, number> = {
  '\u0000w2n:NaN': NaN,
  '\u0000w2n:Infinity': Infinity,
  '\u0000w2n:-Infinity': -Infinity,
};

/** JSON.parse that also accepts bare NaN / Infinity / -Infinity (outside strings). Throws on other errors. */
export function parseJsonLoose(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (!/NaN|Infinity/.test(text)) throw e;
  }
  return JSON.parse(replaceSpecialTokens(text), (_k, v) => (typeof v === 'string' && v in SENTINELS ? SENTINELS[v] : v));
}

function replaceSpecialTokens(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
      continue;
    }
    const token = ['-Infinity', 'Infinity', 'NaN'].find((t) => text.startsWith(t, i));
    if (token) {
      out += JSON.stringify(`\u0000w2n:${token}`);
      i += token.length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Parses a `value_json`; undecodable text is kept as the raw string (reported by the caller). */
export function parseValue(text: string): { ok: true; value: unknown } | { ok: false; value: string } {
  if (text === '') return { ok: true, value: null };
  try {
    return { ok: true, value: parseJsonLoose(text) };
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
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/** Flattens numeric leaves of `v` under `prefix` with `.` (stats values such as `network: {sent, recv}`). */
export function flattenNumbers(prefix: string, v: unknown, out: Record<string, number>): void {
  const n = toNumber(v);
  if (n !== undefined) out[prefix] = n;
  else if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) flattenNumbers(`${prefix}.${k}`, x, out);
}

/** Seconds since the epoch → ISO 8601 UTC. */
export function isoFromSeconds(s: number): string {
  return new Date(Math.round(s * 1000)).toISOString();
}

/** W&B's legacy metadata times carry no zone; the SDK wrote them with utcnow(), so read them as UTC. */
export function isoFromNaiveUtc(s: string): string | undefined {
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`;
  const d = new Date(withZone);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
