import type { ConsoleLine } from '../core/records.ts';
import type { Omission, SeriesPoint } from '../core/target.ts';
import { capabilitiesOf, defaultMappingOptions, type MappingOptions } from './options.ts';

export const STDOUT_PATH = 'monitoring/stdout';

export interface MappedConsoleLine {
  points: SeriesPoint<string>[];
  /** The states a `\r` redraw overwrote, when they are not carried (mapping.md: counted in the report). */
  omission?: Omission;
}

/**
 * One console line → string-series entries (mapping.md, `output.log` row). Step = line index; the
 * line is what the terminal showed. With `--include console-raw`, every state a bare `\r` overwrote
 * goes first, in order, then the line. A text longer than the entry limit is split into pieces —
 * never truncated. All entries of a line sit at fractional steps `index + k/n`, so order is kept and
 * steps stay strictly increasing.
 */
export function mapConsoleLine(
  line: ConsoleLine,
  fallbackTimestampMs: number,
  opts: MappingOptions = defaultMappingOptions,
  limit = capabilitiesOf(opts).stringSeriesEntryLength,
): MappedConsoleLine {
  const ts = line.timestamp !== undefined ? Math.round(line.timestamp * 1000) : fallbackTimestampMs;
  const overwritten = line.overwritten ?? [];
  const raw = opts.include.has('console-raw');
  const texts = raw ? [...overwritten, line.text] : [line.text];
  const pieces = texts.flatMap((t) => split(t, limit));
  const points = pieces.map((value, k) => ({ step: k === 0 ? line.index : line.index + k / pieces.length, timestampMs: ts, value }));
  if (raw || overwritten.length === 0) return { points };
  return {
    points,
    omission: {
      reason: 'console-overwritten',
      subject: STDOUT_PATH,
      count: overwritten.length,
      detail: 'line states overwritten by a bare \\r (progress-bar redraws); --include console-raw keeps them',
    },
  };
}

function split(text: string, limit: number): string[] {
  if (text.length <= limit) return [text];
  const chars = Array.from(text);
  if (chars.length <= limit) return [text];
  const out: string[] = [];
  for (let j = 0; j < chars.length; j += limit) out.push(chars.slice(j, j + limit).join(''));
  return out;
}
