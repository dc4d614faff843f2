/**
 * The part of NQL (Neptune Query Language) the official clients write:
 * - 1.x for the runs table: `(`name`:type OP value)` atoms joined with AND / OR in parentheses, OP one of
 *   = != > >= < <= CONTAINS, value a "quoted string", true/false or a number (neptune-client 1.x
 *   `internal/backends/nql.py`, `api/searching_entries.py`);
 * - neptune-query 1.11.0 (`src/neptune_query/internal/filters.py` `to_query`): the type is optional
 *   (`` `name` `` or `` `name`:int ``), OP also == MATCHES, NOT MATCHES, NOT CONTAINS (the value always a
 *   quoted string, `"3"` for an int), the postfix `EXISTS`, and `NOT (…)`.
 * Anything else is the 400 with `title: "Syntax error"` the 1.x client turns into
 * NeptuneInvalidQueryException (searching_entries.py get_single_page).
 */
import { HttpError } from './http-util.ts';

export type NqlValue = string | number | boolean;
export type Nql =
  | { kind: 'all' }
  | { kind: 'atom'; name: string; type: string; op: string; value: NqlValue }
  | { kind: 'and' | 'or'; items: Nql[] }
  | { kind: 'not'; item: Nql };

const syntaxError = (detail: string) => new HttpError(400, `Syntax error: ${detail}`, { title: 'Syntax error' });

const TOKEN = /\s*(`(?:[^`\\]|\\.)*`|"(?:[^"\\]|\\.)*"|\(|\)|:|==|!=|>=|<=|=|>|<|[A-Za-z_][\w-]*|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw syntaxError(`unexpected input at ${pos}`);
    out.push(m[1]);
    pos = TOKEN.lastIndex;
  }
  return out;
}

const unquote = (t: string) => t.slice(1, -1).replace(/\\(.)/g, '$1');

export function parseNql(text: string): Nql {
  const toks = tokenize(text);
  if (toks.length === 0) return { kind: 'all' };
  let i = 0;
  const peek = () => toks[i];
  const take = (want?: string) => {
    const t = toks[i++];
    if (t === undefined || (want !== undefined && t.toUpperCase() !== want)) throw syntaxError(`expected ${want ?? 'more'} at token ${i}`);
    return t;
  };
  function atom(): Nql {
    // `last(`name`:floatSeries)`: a series compared by its last value (neptune-query `Attribute(aggregation=)`,
    // filters.py `_Attribute.to_query`), which is what a series compares by here anyway (`comparable`).
    // The other aggregations (min, max, average, variance) are not kept by this emulator: a syntax error.
    const aggregated = peek()?.toLowerCase() === 'last' && toks[i + 1] === '(';
    if (aggregated) { take(); take('('); }
    const name = take();
    if (!name.startsWith('`')) throw syntaxError(`expected a quoted attribute name, got ${name}`);
    let type = '';
    if (peek() === ':') { take(':'); type = take(); }
    if (aggregated) take(')');
    let op = take().toUpperCase();
    if (op === 'NOT' && ['MATCHES', 'CONTAINS'].includes(peek()?.toUpperCase() ?? '')) op = `NOT ${take().toUpperCase()}`;
    if (op === 'EXISTS') return { kind: 'atom', name: unquote(name), type, op, value: true };
    if (!['=', '==', '!=', '>', '>=', '<', '<=', 'CONTAINS', 'NOT CONTAINS', 'MATCHES', 'NOT MATCHES'].includes(op)) throw syntaxError(`unknown operator ${op}`);
    const v = take();
    let value: NqlValue;
    if (v.startsWith('"')) value = unquote(v);
    else if (/^(true|false)$/i.test(v)) value = v.toLowerCase() === 'true';
    else if (/^-?\d/.test(v)) value = Number(v);
    else throw syntaxError(`bad value ${v}`);
    return { kind: 'atom', name: unquote(name), type, op, value };
  }
  function primary(): Nql {
    if (peek()?.toUpperCase() === 'NOT') { take(); return { kind: 'not', item: primary() }; }
    if (peek() === '(') {
      take('(');
      const inner = expr();
      take(')');
      return inner;
    }
    return atom();
  }
  function conj(): Nql {
    const items = [primary()];
    while (peek()?.toUpperCase() === 'AND') { take(); items.push(primary()); }
    return items.length === 1 ? items[0] : { kind: 'and', items };
  }
  function expr(): Nql {
    const items = [conj()];
    while (peek()?.toUpperCase() === 'OR') { take(); items.push(conj()); }
    return items.length === 1 ? items[0] : { kind: 'or', items };
  }
  const q = expr();
  if (i !== toks.length) throw syntaxError(`unexpected ${toks[i]}`);
  return q;
}

/** A field's value as the query compares it: number (numbers, datetimes in ms), boolean, string or string list. */
export type Comparable = number | boolean | string | string[] | undefined;

function regex(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch {
    throw syntaxError(`bad regex ${source}`);
  }
}

function compare(a: Comparable, op: string, b: NqlValue, type: string): boolean {
  if (op === 'EXISTS') return a !== undefined;
  if (a === undefined) return op === '!=' || op.startsWith('NOT ');
  if (op === 'CONTAINS') return Array.isArray(a) ? a.includes(String(b)) : String(a).includes(String(b));
  if (op === 'NOT CONTAINS') return !compare(a, 'CONTAINS', b, type);
  if (op === 'MATCHES') return regex(String(b)).test(Array.isArray(a) ? a.join(',') : String(a));
  if (op === 'NOT MATCHES') return !compare(a, 'MATCHES', b, type);
  let left: number | string | boolean = Array.isArray(a) ? a.join(',') : a;
  let right: number | string | boolean = b;
  if (type === 'datetime') right = typeof b === 'number' ? b : Date.parse(String(b));
  else if (typeof left === 'number') right = Number(b);
  // neptune-query writes a bool as Python prints it: "True" (filters.py `_right_query`).
  if (typeof left === 'boolean' || typeof right === 'boolean') { left = String(left); right = String(right).toLowerCase(); }
  switch (op) {
    case '=': case '==': return left === right;
    case '!=': return left !== right;
    case '>': return left > right;
    case '>=': return left >= right;
    case '<': return left < right;
    default: return left <= right;
  }
}

export function matches(q: Nql, value: (name: string) => Comparable): boolean {
  switch (q.kind) {
    case 'all': return true;
    case 'and': return q.items.every((x) => matches(x, value));
    case 'or': return q.items.some((x) => matches(x, value));
    case 'not': return !matches(q.item, value);
    default: return compare(value(q.name), q.op, q.value, q.type);
  }
}
