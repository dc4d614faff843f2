import { once } from 'node:events';
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

/** Writes one piece of output; a promise when the next piece must wait (a stream whose buffer is full). */
export type PieceWriter = (text: string) => void | Promise<void>;

/**
 * A stream as a piece writer: once its buffer is over its mark, the next piece waits for 'drain'. Written
 * without waiting, a report outran a slow reader of stdout (a pipe) and was held whole in the stream's
 * buffer: 8.5 MB of 10,000 runs' JSON, 20 MB of 20,000 (the bench's reader, on a loaded machine), the
 * largest part of (c)'s growth with the run count.
 */
export function streamPieces(stream: NodeJS.WritableStream): PieceWriter {
  return (text) => (stream.write(text) ? undefined : once(stream, 'drain').then(() => undefined));
}

/** Gathers text into pieces of ~PIECE_CHARS for `write`; `end()` writes the rest. Each returns what `write` returned. */
function pieces(write: PieceWriter): { add(text: string): void | Promise<void>; end(): void | Promise<void> } {
  let buffered = '';
  const flush = () => {
    const piece = buffered;
    buffered = '';
    return write(piece);
  };
  return {
    add(text) {
      buffered += text;
      return buffered.length >= PIECE_CHARS ? flush() : undefined;
    },
    end() {
      return buffered ? flush() : undefined;
    },
  };
}

/**
 * The `--json` report event, written run by run: the same line `JSON.stringify({ type: 'report', report,
 * requests, time })` would give, without ever holding the report or the line whole.
 */
export async function writeJsonReport(write: PieceWriter, report: StreamedReport, requests: MigrateOutcome['requests'], time: string): Promise<void> {
  const out = pieces(write);
  // Awaited only when the writer asks to wait: a writer that never does writes it all in one go.
  let wait = out.add('{"type":"report","report":{"runs":[');
  if (wait) await wait;
  let first = true;
  for (const run of report.runs()) {
    wait = out.add(`${first ? '' : ','}${JSON.stringify(run)}`);
    if (wait) await wait;
    first = false;
  }
  wait = out.add(`],"totals":${JSON.stringify(report.totals)},"nonDefaultOmissions":${report.nonDefaultOmissions}},"requests":${JSON.stringify(requests)},"time":${JSON.stringify(time)}}\n`);
  if (wait) await wait;
  wait = out.end();
  if (wait) await wait;
}

/** The report as text (formatReport's lines), written run by run to each of `writers`. */
export async function writeTextReport(writers: readonly PieceWriter[], report: StreamedReport, opts: { dryRun?: boolean }): Promise<void> {
  const outs = writers.map(pieces);
  for (const line of reportLines(report, report.runs(), opts)) {
    for (const o of outs) {
      const wait = o.add(`${line}\n`);
      if (wait) await wait;
    }
  }
  for (const o of outs) {
    const wait = o.end();
    if (wait) await wait;
  }
}
