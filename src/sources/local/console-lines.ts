/**
 * Turns console write fragments (W&B `output` / `output_raw` records) into lines.
 *
 * Fragments are not lines: one print() can arrive as several records, one record can hold many
 * lines, and progress bars redraw with `\r`. Rules (deterministic, per stream):
 * - `\n` (or `\r\n`) ends the current line, which is emitted even when empty;
 * - a bare `\r` returns the cursor: the next text replaces the current line (what a terminal
 *   shows once a redraw is complete, e.g. tqdm), so only the last state of a progress bar is kept;
 * - text that never gets its `\n` is emitted at the end of the stream.
 * stdout and stderr are assembled separately (their fragments interleave) and lines are numbered
 * densely in the order they are completed. A line's timestamp is that of the fragment completing it.
 * ANSI escape sequences are kept as they are.
 */
import type { ConsoleLine } from '../../core/records.ts';

type Stream = 'stdout' | 'stderr';

interface Pending {
  text: string;
  cr: boolean;
  timestamp?: number;
  /** Order in which the current partial line started, for the end-of-stream flush. */
  startedAt: number;
}

export class ConsoleAssembler {
  private readonly pending: Record<Stream, Pending> = {
    stdout: { text: '', cr: false, startedAt: -1 },
    stderr: { text: '', cr: false, startedAt: -1 },
  };
  private nextIndex = 0;
  private seq = 0;

  /** Feeds one fragment; returns the lines it completed. */
  push(stream: Stream, fragment: string, timestamp?: number): ConsoleLine[] {
    const p = this.pending[stream];
    const out: ConsoleLine[] = [];
    p.timestamp = timestamp ?? p.timestamp;
    const parts = fragment.split(/(\r\n|\n|\r)/);
    for (const part of parts) {
      if (part === '\n' || part === '\r\n') {
        out.push(this.emit(stream, p));
      } else if (part === '\r') {
        p.cr = true;
      } else if (part.length > 0) {
        if (p.startedAt < 0) p.startedAt = this.seq++;
        p.text = p.cr ? part : p.text + part;
        p.cr = false;
      }
    }
    return out;
  }

  /** Emits the unfinished lines, oldest first. */
  end(): ConsoleLine[] {
    const open = (['stdout', 'stderr'] as const)
      .filter((s) => this.pending[s].text.length > 0)
      .sort((a, b) => this.pending[a].startedAt - this.pending[b].startedAt);
    return open.map((s) => this.emit(s, this.pending[s]));
  }

  private emit(stream: Stream, p: Pending): ConsoleLine {
    const line: ConsoleLine = { index: this.nextIndex++, text: p.text, stream };
    if (p.timestamp !== undefined) line.timestamp = p.timestamp;
    p.text = '';
    p.cr = false;
    p.startedAt = -1;
    return line;
  }
}
