/**
 * One emulator in its own process, so the benchmark's RSS and CPU figures for the migration are not
 * mixed with the emulators'. Driven over IPC by bench/lib/children.ts:
 *   parent → { type: 'start', config }   child → { type: 'started', info }
 *   parent → { type: 'stats' }           child → { type: 'stats', stats }
 *   parent disconnects                   child closes the emulator and exits
 */
import { startStackPart, type EmulatorConfig } from './emulator-config.ts';

if (!process.send) throw new Error('emulator-child.ts must be started with an IPC channel (child_process.fork)');

let part: Awaited<ReturnType<typeof startStackPart>> | undefined;

process.on('message', (m: { type: string; config?: EmulatorConfig }) => {
  if (m.type === 'start' && m.config) {
    startStackPart(m.config).then(
      (p) => { part = p; process.send!({ type: 'started', info: p.info }); },
      (e: unknown) => { process.send!({ type: 'error', message: e instanceof Error ? e.message : String(e) }); },
    );
  } else if (m.type === 'stats') {
    process.send!({ type: 'stats', stats: part?.stats() ?? {} });
  }
});

process.on('disconnect', () => {
  void (part?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
