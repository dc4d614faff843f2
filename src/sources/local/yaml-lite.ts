/**
 * A small YAML reader for the files W&B writes with PyYAML / Go yaml (`config.yaml`): block
 * mappings and sequences (including sequences at the same indent as their key), plain, quoted and
 * block scalars, wrapped long scalars, and simple flow collections. Not a general YAML parser;
 * the project has no YAML dependency and config.yaml is only a fallback to the log.
 */
import { parseExtendedJson } from '../extended-json.ts';

interface Line {
  indent: number;
  text: string;
  no: number;
}

export function parseYamlLite(src: string): unknown {
  const lines: Line[] = [];
  src.split(/\r?\n/).forEach((raw, no) => {
    const text = raw.replace(/\s+$/, '');
    const trimmed = text.trimStart();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed === '---' || trimmed === '...') return;
    lines.push({ indent: text.length - trimmed.length, text: trimmed, no });
  });
  const p = { lines, i: 0, raw: src.split(/\r?\n/) };
  if (lines.length === 0) return null;
  return parseNode(p, lines[0].indent);
}

type P = { lines: Line[]; i: number; raw: string[] };

function parseNode(p: P, indent: number): unknown {
  const l = p.lines[p.i];
  if (!l || l.indent < indent) return null;
  if (l.text === '-' || l.text.startsWith('- ')) return parseSeq(p, l.indent);
  if (splitKey(l.text)) return parseMap(p, l.indent);
  p.i++;
  return scalarWithContinuation(p, l.text, l.indent - 1);
}

function parseSeq(p: P, indent: number): unknown[] {
  const out: unknown[] = [];
  while (p.i < p.lines.length) {
    const l = p.lines[p.i];
    if (l.indent !== indent || !(l.text === '-' || l.text.startsWith('- '))) break;
    const rest = l.text.slice(1).trimStart();
    if (rest === '') {
      p.i++;
      out.push(parseNode(p, indent + 1));
    } else if (splitKey(rest) && !/^["'[{]/.test(rest)) {
      // "- key: v": a mapping whose first line shares the dash; its other keys sit at the dash's content column.
      const col = indent + (l.text.length - rest.length);
      p.lines[p.i] = { indent: col, text: rest, no: l.no };
      out.push(parseMap(p, col));
    } else {
      p.i++;
      out.push(scalarWithContinuation(p, rest, indent));
    }
  }
  return out;
}

function parseMap(p: P, indent: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (p.i < p.lines.length) {
    const l = p.lines[p.i];
    if (l.indent !== indent) break;
    const kv = splitKey(l.text);
    if (!kv) break;
    p.i++;
    const [key, rest] = kv;
    if (rest === '' || /^!!\S+$/.test(rest)) {
      const next = p.lines[p.i];
      if (next && (next.indent > indent || (next.indent === indent && (next.text === '-' || next.text.startsWith('- '))))) {
        out[key] = parseNode(p, next.indent);
      } else out[key] = null;
    } else if (/^[|>][-+]?\d*$/.test(rest)) {
      out[key] = blockScalar(p, indent, rest);
    } else out[key] = scalarWithContinuation(p, rest.replace(/^!!\S+\s+/, ''), indent);
  }
  return out;
}

/** `key: rest` with plain or quoted keys; null when the line is not a mapping entry. */
function splitKey(text: string): [string, string] | null {
  let m: RegExpMatchArray | null;
  if ((m = text.match(/^"((?:[^"\\]|\\.)*)"\s*:(?:\s+(.*))?$/))) return [JSON.parse(`"${m[1]}"`) as string, m[2] ?? ''];
  if ((m = text.match(/^'((?:[^']|'')*)'\s*:(?:\s+(.*))?$/))) return [m[1].replace(/''/g, "'"), m[2] ?? ''];
  if ((m = text.match(/^([^\s"'#\-[{][^:#]*?|-[^\s:][^:#]*?)\s*:(?:\s+(.*))?$/))) return [m[1], m[2] ?? ''];
  return null;
}

/** A scalar that may continue on more-indented lines (PyYAML wraps long strings at ~80 columns). */
function scalarWithContinuation(p: P, first: string, parentIndent: number): unknown {
  let text = first;
  const quoted = /^["']/.test(text);
  while (p.i < p.lines.length) {
    const l = p.lines[p.i];
    const openQuote = quoted && !isClosedQuoted(text);
    if (!openQuote && (l.indent <= parentIndent || splitKey(l.text) || l.text.startsWith('- ') || quoted)) break;
    text += ' ' + l.text;
    p.i++;
  }
  return scalar(text);
}

function isClosedQuoted(t: string): boolean {
  if (t.startsWith('"')) return /^"(?:[^"\\]|\\.)*"\s*$/.test(t);
  return /^'(?:[^']|'')*'\s*$/.test(t);
}

function blockScalar(p: P, indent: number, header: string): string {
  const parts: string[] = [];
  const startNo = p.lines[p.i - 1].no;
  let endNo = startNo;
  while (p.i < p.lines.length && p.lines[p.i].indent > indent) endNo = p.lines[p.i++].no;
  const rawLines = p.raw.slice(startNo + 1, endNo + 1);
  const strip = Math.min(...rawLines.filter((r) => r.trim() !== '').map((r) => r.length - r.trimStart().length));
  for (const r of rawLines) parts.push(r.slice(Number.isFinite(strip) ? strip : 0));
  const body = header.startsWith('>') ? parts.join(' ') : parts.join('\n');
  return header.includes('-') ? body : `${body}\n`;
}

function scalar(t: string): unknown {
  const s = t.replace(/\s+#.*$/, (m) => (/^["']/.test(t) ? m : ''));
  if (s.startsWith('"')) {
    try {
      return JSON.parse(s);
    } catch {
      return s.slice(1, -1);
    }
  }
  if (s.startsWith("'")) return s.slice(1, -1).replace(/''/g, "'");
  if (s === '~' || s === 'null' || s === 'Null' || s === 'NULL') return null;
  if (/^(true|True|TRUE)$/.test(s)) return true;
  if (/^(false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?\d+$/.test(s)) return Number(s);
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  if (/^[-+]?\.(inf|Inf|INF)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^\.(nan|NaN|NAN)$/.test(s)) return NaN;
  if (/^[[{]/.test(s)) {
    try {
      return parseExtendedJson(s);
    } catch {
      return flowFallback(s);
    }
  }
  return s;
}

/** Flow collections with unquoted scalars (`[a, b]`, `{k: v}`), one level deep. */
function flowFallback(s: string): unknown {
  const inner = s.slice(1, -1).trim();
  const parts = inner === '' ? [] : inner.split(/\s*,\s*/);
  if (s.startsWith('[')) return parts.map((x) => scalar(x));
  const out: Record<string, unknown> = {};
  for (const part of parts) {
    const kv = splitKey(part);
    if (kv) out[kv[0]] = scalar(kv[1]);
  }
  return out;
}
