/**
 * The one console rule of both sources (the run folder's log records and `output.log`, the API's
 * `output.log` and its chunks): write fragments in, the lines a terminal showed out.
 *
 * Fragments are not lines: one print() can arrive as several records, one record can hold many
 * lines, and progress bars redraw with `\r`. Rules (deterministic, per stream):
 * - `\n` (or `\r\n`) ends the current line, which is emitted even when empty;
 * - a bare `\r` returns the cursor to the start of the line; what is written next overwrites the
 *   line character by character, as on a terminal (`abcdef\rXY` shows `XYcdef`). Each state of the
 *   line that a redraw overwrote is kept, in order, in `overwritten` (mapping.md: counted in the
 *   report, or carried with `--include console-raw`);
 * - text that never gets its `\n` is emitted at the end of the stream.
 * stdout and stderr are assembled separately (their fragments interleave) and lines are numbered
 * densely in the order they are completed. A line's timestamp is that of the fragment completing it.
 * ANSI escape sequences are kept as they are (and take columns like any character).
 */
import type { ConsoleLine } from '../core/records.ts';

type Stream = 'stdout' | 'stderr';

interface Pending {
  text: string;
  /** Length of `text` in code points (columns). */
  width: number;
  /** Cursor column; below `width` only after a `\r`. */
  col: number;
  overwritten: string[];
  timestamp?: number;
  /** Order in which the current partial line started, for the end-of-stream flush. */
  startedAt: number;
}

const fresh = (): Pending => ({ text: '', width: 0, col: 0, overwritten: [], startedAt: -1 });

export class ConsoleAssembler {
  private readonly pending: Record<Stream, Pending> = { stdout: fresh(), stderr: fresh() };
  private nextIndex = 0;
  private seq = 0;

  /** Feeds one fragment; returns the lines it completed. */
  push(stream: Stream, fragment: string, timestamp?: number): ConsoleLine[] {
    const p = this.pending[stream];
    const out: ConsoleLine[] = [];
    p.timestamp = timestamp ?? p.timestamp;
    for (const part of fragment.split(/(\r\n|\n|\r)/)) {
      if (part === '\n' || part === '\r\n') out.push(this.emit(stream, p));
      else if (part === '\r') p.col = 0;
      else if (part.length > 0) write(p, part, this.seq++);
    }
    return out;
  }

  /** Emits the unfinished lines, oldest first. */
  end(): ConsoleLine[] {
    const open = (['stdout', 'stderr'] as const)
      .filter((s) => this.pending[s].width > 0)
      .sort((a, b) => this.pending[a].startedAt - this.pending[b].startedAt);
    return open.map((s) => this.emit(s, this.pending[s]));
  }

  private emit(stream: Stream, p: Pending): ConsoleLine {
    const line: ConsoleLine = { index: this.nextIndex++, text: p.text, stream };
    if (p.overwritten.length > 0) line.overwritten = p.overwritten;
    if (p.timestamp !== undefined) line.timestamp = p.timestamp;
    Object.assign(p, fresh(), { timestamp: p.timestamp });
    return line;
  }
}

function write(p: Pending, part: string, order: number): void {
  if (p.startedAt < 0) p.startedAt = order;
  if (p.col === p.width) {
    // The usual case: appending at the end of the line.
    p.text += part;
    const n = codePoints(part);
    p.width += n;
    p.col += n;
    return;
  }
  // After a `\r`: this write overwrites what the line showed from the cursor on.
  if (p.col === 0) p.overwritten.push(p.text);
  const chars = Array.from(p.text);
  const add = Array.from(part);
  chars.splice(p.col, add.length, ...add);
  p.text = chars.join('');
  p.width = chars.length;
  p.col += add.length;
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

/**
 * Console text without records (`output.log` and its chunks: both streams mixed, no timestamps),
 * chunk by chunk through `asm`. The caller ends the assembler after its last file, so a line cut
 * between two chunk files stays one line.
 */
export async function* textConsoleLines(asm: ConsoleAssembler, chunks: AsyncIterable<string>, signal?: AbortSignal): AsyncGenerator<ConsoleLine> {
  for await (const chunk of chunks) {
    signal?.throwIfAborted();
    for (const l of asm.push('stdout', chunk)) yield withoutStream(l);
  }
}

/** The end of text-only console input: the unfinished line, without a stream. */
export function endTextConsole(asm: ConsoleAssembler): ConsoleLine[] {
  return asm.end().map(withoutStream);
}

function withoutStream(l: ConsoleLine): ConsoleLine {
  const { stream: _s, ...rest } = l;
  return rest;
}
