import type { MigrateOutcome, StreamedReport } from '../commands/migrate.ts';
import { reportLines } from '../pipeline/report.ts';

/**
 * Output is written in pieces of about this many characters: few writes, and never the whole report at
 * once. Small enough that a piece dies young: one non-Latin-1 character (the text report's "—") makes a
 * piece a two-byte string, and at 64 K characters (128 KB) each piece and its copies (the log line, the
 * bytes written) went to V8's large-object space, freed only by a full collection. The report of
 * 10,000 runs (~5 MB of text, ~11 MB of JSON) then piled up there as garbage until the old generation's
 * limit: the end of (c) on Node 24 rose from 144 to 158 MB, more with more runs. 16 K characters (32 KB
 * at most) are ordinary young objects that the scavenger frees.
 */
const PIECE_CHARS = 16 * 1024;

/** Gathers text into pieces of ~64 KB for `write`; `end()` writes the rest. */
function pieces(write: (text: string) => void): { add(text: string): void; end(): void } {
  let buffered = '';
  return {
    add(text) {
      buffered += text;
      if (buffered.length >= PIECE_CHARS) {
        write(buffered);
        buffered = '';
      }
    },
    end() {
      if (buffered) write(buffered);
      buffered = '';
    },
  };
}

/**
 * The `--json` report event, written run by run: the same line `JSON.stringify({ type: 'report', report,
 * requests, time })` would give, without ever holding the report or the line whole.
 */
export function writeJsonReport(write: (text: string) => void, report: StreamedReport, requests: MigrateOutcome['requests'], time: string): void {
  const out = pieces(write);
  out.add('{"type":"report","report":{"runs":[');
  let first = true;
  for (const run of report.runs()) {
    out.add(`${first ? '' : ','}${JSON.stringify(run)}`);
    first = false;
  }
  out.add(`],"totals":${JSON.stringify(report.totals)},"nonDefaultOmissions":${report.nonDefaultOmissions}},"requests":${JSON.stringify(requests)},"time":${JSON.stringify(time)}}\n`);
  out.end();
}

/** The report as text (formatReport's lines), written run by run to each of `writers`. */
export function writeTextReport(writers: ReadonlyArray<(text: string) => void>, report: StreamedReport, opts: { dryRun?: boolean }): void {
  const outs = writers.map(pieces);
  for (const line of reportLines(report, report.runs(), opts)) for (const o of outs) o.add(`${line}\n`);
  for (const o of outs) o.end();
}
