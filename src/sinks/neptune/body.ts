import { isSlice, type BatchOp, type SeriesSlice } from './operations.ts';

/**
 * The JSON body of one `executeOperations` request (served swagger: an array of `Operation`), byte for
 * byte what `JSON.stringify` gives for the same operations. Atoms go through `JSON.stringify`; a series
 * slice is written from its buffer's columns: no object per point, each point's step and timestamp
 * formatted once per request even when several series share them (history rows), and the text written
 * into one reused buffer operation by operation, so what is built stays short-lived.
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
/** Points written out per string: short enough that the string stays young, long enough to cost few writes. */
const POINTS_PER_WRITE = 128;

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
  const { steps, times } = buf;
  const floats = buf.kind === 'float' ? (buf.values as Float64Array) : undefined;
  const strings = buf.values as string[];
  put(`{"path":${JSON.stringify(s.path)},"${floats ? 'logFloats' : 'logStrings'}":{"entries":[`);
  let text = '';
  for (let i = from; i < to; i++) {
    const value = floats ? num(floats[i]) : JSON.stringify(strings[i]);
    text += `${i > from ? ',' : ''}{"value":${value}${tail(steps[i], Math.round(times[i]))}`;
    if ((i - from) % POINTS_PER_WRITE === POINTS_PER_WRITE - 1) {
      put(text);
      text = '';
    }
  }
  put(`${text}]}}`);
}
