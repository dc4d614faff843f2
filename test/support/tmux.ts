import { spawnSync } from 'node:child_process';
import { CLI } from './cli.ts';

/** Whether tmux is installed (the real-terminal tests need it; CI without it skips them, saying why). */
export const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0;

/**
 * The real CLI in a real terminal: a private tmux server (its own socket, started with the given
 * environment) runs it in a pane, the test types keys and reads the screen. The pane prints
 * `EXIT=<code>` when the CLI ends.
 */
export class TmuxCli {
  private readonly socket = `w2n-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(args: string[], env: Record<string, string>, cwd: string) {
    const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', 'new-session', '-d', '-x', '200', '-y', '80', `cd '${cwd}' && ${quoted}; echo "EXIT=$?"; read`], {
      env: { ...process.env, ...env, FORCE_COLOR: '0', TERM: 'xterm-256color' },
    });
    if (r.status !== 0) throw new Error(`tmux failed: ${r.stderr}`);
  }

  /** The whole pane, history included, lines joined where the terminal wrapped them. */
  screen(): string {
    return spawnSync('tmux', ['-L', this.socket, 'capture-pane', '-p', '-J', '-S', '-2000'], { encoding: 'utf8' }).stdout;
  }

  send(...keys: string[]): void {
    spawnSync('tmux', ['-L', this.socket, 'send-keys', ...keys]);
  }

  type(text: string): void {
    spawnSync('tmux', ['-L', this.socket, 'send-keys', '-l', text]);
  }

  /**
   * Resolves when the screen shows `text`; rejects if the CLI ended without showing it (a prompt that
   * never came, a question that should not have been asked). Watches the screen, no fixed delay.
   */
  async waitFor(text: string | RegExp): Promise<string> {
    for (;;) {
      const screen = this.screen();
      if (typeof text === 'string' ? screen.includes(text) : text.test(screen)) return screen;
      if (/^EXIT=\d+$/m.test(screen)) throw new Error(`the CLI ended without showing ${String(text)}:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async exitCode(): Promise<number> {
    const screen = await this.waitFor(/^EXIT=\d+$/m);
    return Number(/^EXIT=(\d+)$/m.exec(screen)![1]);
  }

  close(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}
