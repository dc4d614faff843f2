import { Writable } from 'node:stream';

/**
 * Standard output, for a command that must not die with its reader. `migrate --json | head -2` closes
 * the pipe after two events: Node then raises EPIPE on every write, and exiting 0 there (right for
 * `status | head`) stopped a migration mid-way with no word and a success code. Writes through
 * this stream go to stdout until it closes, then are dropped (a report written into a closed pipe
 * would wait for a drain that never comes); `onClosed` runs once, so the command can stop as an
 * interrupt does and say so on stderr.
 */
export class GuardedStdout extends Writable {
  private readerGone = false;

  constructor(private readonly out: NodeJS.WritableStream & { on(e: 'error', l: (e: NodeJS.ErrnoException) => void): unknown }, private readonly onClosed: () => void) {
    super({ decodeStrings: false });
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') return; // any other error is the process's handler's (src/cli/index.ts)
      this.close();
    });
  }

  get isClosed(): boolean {
    return this.readerGone;
  }

  private close(): void {
    if (this.readerGone) return;
    this.readerGone = true;
    this.onClosed();
  }

  override _write(chunk: string | Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    if (this.readerGone) return done();
    // Done when stdout took it (its backpressure is ours); an error there is the close, not this write's.
    this.out.write(chunk, () => done());
  }
}
