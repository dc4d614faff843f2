/**
 * Console text read as bytes (`output.log` and its chunks, from a run folder or downloaded from W&B):
 * what is not UTF-8 lands as U+FFFD, as W&B's own readers decode it, and the lines it touched are
 * counted so the report can say so (the file itself, carried as a run file, keeps the bytes).
 */
import { isUtf8 } from 'node:buffer';
import type { ConsoleLine } from '../core/records.ts';
import { endTextConsole, textConsoleLines, type ConsoleAssembler } from './console-lines.ts';

/** Console lines of byte files through one assembler, counting the lines that held bytes not UTF-8. */
export class ByteConsole {
  /** Lines with U+FFFD given out once a file read was known not to be UTF-8 (U+FFFD itself is valid UTF-8). */
  notUtf8Lines = 0;
  /** The files read that were not UTF-8 throughout, in reading order. */
  readonly notUtf8Files: string[] = [];
  private anyNotUtf8 = false;

  constructor(private readonly asm: ConsoleAssembler) {}

  /** The lines `chunks` (the bytes of `file`) complete; a line cut at the file's end waits for the next file or `end()`. */
  async *lines(file: string, chunks: AsyncIterable<Buffer>, signal?: AbortSignal): AsyncGenerator<ConsoleLine> {
    const seen = { notUtf8: false };
    try {
      for await (const l of textConsoleLines(this.asm, utf8Text(chunks, seen), signal)) {
        if (seen.notUtf8) this.anyNotUtf8 = true;
        yield this.counted(l);
      }
    } finally {
      if (seen.notUtf8) {
        this.anyNotUtf8 = true;
        this.notUtf8Files.push(file);
      }
    }
  }

  /** The unfinished line, after the last file. */
  end(): ConsoleLine[] {
    return endTextConsole(this.asm).map((l) => this.counted(l));
  }

  private counted(l: ConsoleLine): ConsoleLine {
    if (this.anyNotUtf8 && l.text.includes('\uFFFD')) this.notUtf8Lines++;
    return l;
  }
}

/** The report line's text for console files that were not UTF-8 throughout (`where`: the files, as the user knows them). */
export function notUtf8Message(where: string, lines: number): string {
  return `${where} is not UTF-8 throughout: ${lines} console line(s) held other bytes, which landed as U+FFFD; the file itself (run files) keeps them as they are`;
}

/**
 * Bytes as text, what is not UTF-8 as U+FFFD; `seen.notUtf8` is set before the text of the chunk that
 * showed it is given out. A character cut by a chunk's end waits for the next chunk before it is judged.
 */
export async function* utf8Text(chunks: AsyncIterable<Buffer>, seen: { notUtf8: boolean }): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let carry = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const cut = bytes.length - incompleteTail(bytes);
    if (!seen.notUtf8 && !isUtf8(bytes.subarray(0, cut))) seen.notUtf8 = true;
    carry = Buffer.from(bytes.subarray(cut));
    yield decoder.decode(chunk, { stream: true });
  }
  if (carry.length && !seen.notUtf8) seen.notUtf8 = true; // the file ends inside a character
  yield decoder.decode();
}

/** How many bytes at the end start a UTF-8 character they do not finish (0 to 3). */
function incompleteTail(b: Buffer): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const byte = b[b.length - back];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}
