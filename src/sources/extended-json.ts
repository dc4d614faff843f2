/**
 * W&B writes history rows, events, summary and config in "extended JSON": standard JSON plus the bare
 * tokens `NaN`, `Infinity` and `-Infinity` (Python's json and Go's simplejsonext both emit them).
 * `JSON.parse` rejects those, so: try the fast native parser first, and only when it fails fall back
 * to a small recursive-descent parser that accepts the three tokens. Nothing else is relaxed.
 *
 * Python ints have no size limit, and `JSON.parse` rounds an integer beyond 2^53 before anyone can
 * see its digits. So a text holding such a literal goes through the small parser too, which returns
 * an integer literal that is not a safe integer as a `bigint` (every digit kept; mapping.md decides
 * how it lands). Integers that fit stay numbers; `1e308` or `2.5` are floats as written.
 */

export class ExtendedJsonError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
    this.name = 'ExtendedJsonError';
  }
}

/** An integer literal of 16+ digits (outside a fraction or exponent): one that may not fit a double. */
const LONG_INTEGER = /(?<![\w.+-])-?\d{16,}(?![\d.eE])/;

export function parseExtendedJson(text: string): unknown {
  try {
    const v = JSON.parse(text) as unknown;
    if (!LONG_INTEGER.test(text)) return v;
  } catch (error) {
    // Only texts that could contain the extra tokens are worth a second, slower pass.
    if (!text.includes('NaN') && !text.includes('Infinity')) {
      throw new ExtendedJsonError(error instanceof Error ? error.message : String(error), 0);
    }
  }
  const p = new Parser(text);
  p.ws();
  const value = p.value();
  p.ws();
  if (p.i !== text.length) p.fail('unexpected trailing characters');
  return value;
}

/** Parses an extended-JSON text that must be an object (history rows, events, summary, config). */
export function parseExtendedJsonObject(text: string): Record<string, unknown> {
  const v = parseExtendedJson(text);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ExtendedJsonError('expected a JSON object', 0);
  }
  return v as Record<string, unknown>;
}

/** A parsed value's JSON text again, integers beyond 2^53 by their digits (for report lines). */
export function extendedJsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new ExtendedJsonError(`${what} at position ${this.i}`, this.i);
  }

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  private word(w: string, v: unknown): unknown {
    if (this.s.startsWith(w, this.i)) {
      this.i += w.length;
      return v;
    }
    return this.fail('unexpected token');
  }

  value(): unknown {
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.word('true', true);
      case 'f':
        return this.word('false', false);
      case 'n':
        return this.word('null', null);
      case 'N':
        return this.word('NaN', Number.NaN);
      case 'I':
        return this.word('Infinity', Number.POSITIVE_INFINITY);
      case '-':
        if (this.s.startsWith('-Infinity', this.i)) return this.word('-Infinity', Number.NEGATIVE_INFINITY);
        return this.number();
      default:
        if (c !== undefined && c >= '0' && c <= '9') return this.number();
        return this.fail(c === undefined ? 'unexpected end of input' : 'unexpected character');
    }
  }

  private number(): number | bigint {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) this.fail('bad number');
    this.i += m[0].length;
    const n = Number(m[0]);
    return Number.isInteger(n) && !Number.isSafeInteger(n) && /^-?\d+$/.test(m[0]) ? BigInt(m[0]) : n;
  }

  private string(): string {
    // Find the closing quote, then let the native parser decode escapes exactly as JSON does.
    const s = this.s;
    let j = this.i + 1;
    let escaped = false;
    for (; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === 0x5c) {
        escaped = true;
        j++;
      } else if (c === 0x22) break;
    }
    if (j >= s.length) this.fail('unterminated string');
    const raw = s.slice(this.i, j + 1);
    this.i = j + 1;
    if (!escaped) {
      const inner = raw.slice(1, -1);
      // Control characters are invalid in JSON strings; let JSON.parse reject them.
      if (!/[\u0000-\u001f]/.test(inner)) return inner;
    }
    try {
      return JSON.parse(raw) as string;
    } catch {
      return this.fail('bad string');
    }
  }

  private array(): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.fail("expected ',' or ']'");
      }
    }
  }

  private object(): Record<string, unknown> {
    this.i++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a key');
      const key = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') {
        this.i--;
        this.fail("expected ':'");
      }
      this.ws();
      const v = this.value();
      // defineProperty keeps a `__proto__` key as data, as JSON.parse does.
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') {
        this.i--;
        this.fail("expected ',' or '}'");
      }
    }
  }
}

/** JSON-typed GraphQL fields cannot carry bare tokens; W&B puts the strings there instead (inferred, §4.1). */
export function numberFromJsonField(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}
