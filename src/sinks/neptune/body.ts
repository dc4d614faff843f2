import { isSlice, type BatchOp, type SeriesSlice } from './operations.ts';

/**
 * The JSON body of one `executeOperations` request (served swagger: an array of `Operation`), byte for
 * byte what `JSON.stringify` gives for the same operations, but for a float point of -0 (`-0.0`, which
 * JSON.stringify would write as 0: FloatPointValueDTO.value is a double, and -0 is one). Atoms go through `JSON.stringify`; a series
 * slice is written from its buffer's columns: no object per point, each point's step and timestamp
 * formatted once per request even when several series share them (history rows), and each operation's
 * text written into one reused buffer as soon as it is built, so what is built stays short-lived.
 */
export function encodeOperations(ops: readonly BatchOp[]): Buffer {
  pos = 0;
  room(1);
  scratch[pos++] = 0x5b; // [
  try {
    for (let k = 0; k < ops.length; k++) {
      if (k > 0) {
        room(1);
        scratch[pos++] = 0x2c; // ,
      }
      const op = ops[k];
      if (isSlice(op)) writeSlice(op);
      else put(JSON.stringify(op));
    }
    room(1);
    scratch[pos++] = 0x5d; // ]
    const out = Buffer.allocUnsafe(pos);
    scratch.copy(out, 0, 0, pos);
    return out;
  } finally {
    // The formatted rows are garbage once the request is written: let them die young.
    tails.fill('');
    tailSteps.fill(NaN);
    if (scratch.length > MAX_KEPT) scratch = Buffer.allocUnsafe(INITIAL);
  }
}

const INITIAL = 64 * 1024;
/** A buffer grown past this for one big request is not kept for the next. */
const MAX_KEPT = 16 * 1024 * 1024;

let scratch = Buffer.allocUnsafe(INITIAL);
let pos = 0;

function room(n: number): void {
  if (pos + n <= scratch.length) return;
  const next = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + n));
  scratch.copy(next, 0, 0, pos);
  scratch = next;
}

function put(text: string): void {
  room(text.length * 3);
  pos += scratch.write(text, pos, 'utf8');
}

/** What `JSON.stringify` writes for a number. */
function num(x: number): string {
  return Number.isFinite(x) ? `${x}` : 'null';
}

// A point's `,"step":…,"timestampMilliseconds":…}` by (step, milliseconds), direct-mapped: the series
// of one history block share their rows, so each row is formatted once per request.
const TAILS = 4096;
const tailSteps = new Float64Array(TAILS).fill(NaN);
const tailTimes = new Float64Array(TAILS);
const tails: string[] = new Array<string>(TAILS).fill('');

function tail(step: number, ms: number): string {
  const k = (step | 0) & (TAILS - 1);
  if (tailSteps[k] === step && tailTimes[k] === ms) return tails[k];
  const t = `,"step":${num(step)},"timestampMilliseconds":${num(ms)}}`;
  tailSteps[k] = step;
  tailTimes[k] = ms;
  tails[k] = t;
  return t;
}

function writeSlice(s: SeriesSlice): void {
  const { buf, from, to } = s;
  const float = buf.kind === 'float';
  put(`{"path":${JSON.stringify(s.path)},"${float ? 'logFloats' : 'logStrings'}":{"entries":[`);
  // Entries are ASCII (numbers, and strings as JSON escapes them: other characters stay as they are, so strings go as UTF-8).
  const text = float ? floatEntries(buf.values as Float64Array, buf.steps, buf.times, from, to) : stringEntries(buf.values as string[], buf.steps, buf.times, from, to);
  room(text.length * (float ? 1 : 3) + 3);
  pos += scratch.write(text, pos, float ? 'latin1' : 'utf8');
  scratch[pos++] = 0x5d; // ]
  scratch[pos++] = 0x7d; // }
  scratch[pos++] = 0x7d; // }
}

/**
 * The entries of points `[from, to)` of a float series, joined once. The values are formatted by one
 * `JSON.stringify` of them all (cheaper than a string per value), then cut at the commas.
 */
function floatEntries(values: Float64Array, steps: Float64Array, times: Float64Array, from: number, to: number): string {
  const n = to - from;
  const list = new Array<number>(n);
  for (let i = 0; i < n; i++) list[i] = values[from + i];
  const formatted = JSON.stringify(list);
  const parts = new Array<string>(3 * n);
  let at = 1;
  for (let i = 0; i < n; i++) {
    const end = formatted.indexOf(i === n - 1 ? ']' : ',', at);
    parts[3 * i] = i > 0 ? ',{"value":' : '{"value":';
    const v = values[from + i];
    // JSON.stringify writes -0 as 0; the double W&B holds is -0, and a JSON number can say so (`-0.0`, a
    // float token to parsers that read `-0` as the integer 0).
    parts[3 * i + 1] = v === 0 && 1 / v < 0 ? '-0.0' : formatted.slice(at, end);
    parts[3 * i + 2] = tail(steps[from + i], Math.round(times[from + i]));
    at = end + 1;
  }
  return parts.join('');
}

function stringEntries(values: string[], steps: Float64Array, times: Float64Array, from: number, to: number): string {
  const parts = new Array<string>(to - from);
  for (let i = from; i < to; i++) parts[i - from] = `${i > from ? ',' : ''}{"value":${JSON.stringify(values[i])}${tail(steps[i], Math.round(times[i]))}`;
  return parts.join('');
}
