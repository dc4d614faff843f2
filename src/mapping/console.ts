import type { ConsoleLine } from '../core/records.ts';
import { PROTOCOL_A_LIMITS, type SeriesPoint } from '../core/target.ts';

export const STDOUT_PATH = 'monitoring/stdout';

/**
 * One console line → string-series entries. Step = line index; a line longer than the entry limit is
 * split into pieces at fractional steps (index + j/pieces) — never truncated — so order is kept and
 * steps stay strictly increasing.
 */
export function mapConsoleLine(line: ConsoleLine, fallbackTimestampMs: number, limit: number = PROTOCOL_A_LIMITS.stringSeriesEntryLength): SeriesPoint<string>[] {
  const ts = line.timestamp !== undefined ? Math.round(line.timestamp * 1000) : fallbackTimestampMs;
  const chars = Array.from(line.text);
  if (chars.length <= limit) return [{ step: line.index, timestampMs: ts, value: line.text }];
  const pieces = Math.ceil(chars.length / limit);
  const out: SeriesPoint<string>[] = [];
  for (let j = 0; j < pieces; j++) {
    out.push({ step: line.index + j / pieces, timestampMs: ts, value: chars.slice(j * limit, (j + 1) * limit).join('') });
  }
  return out;
}
