import { describe, expect, it } from 'vitest';
import { formatReport, type MigrationReport, type RunReport } from '../pipeline/report.ts';
import { PassThrough } from 'node:stream';
import { streamPieces, writeJsonReport, writeTextReport } from './report-output.ts';

/** Issue 13: the report of 10,000 runs is written run by run, in pieces, never as one string. */
const run = (i: number): RunReport => ({
  run: `team/proj/run-${i}`, name: `name "${i}"`, target: `demo/proj/RUN-${i}`, status: i % 7 === 0 ? 'failed' : 'migrated',
  ...(i % 7 === 0 ? { error: `refused\nline ${i}` } : {}),
  written: { fields: 12, points: i * 3, historyPoints: i * 2, systemPoints: i, files: 1, bytes: 100 + i },
  notWritten: i % 3 === 0 ? [{ reason: 'excluded-by-default', subject: '_wandb', count: 1, detail: 'W&B internal key' }] : [],
  notices: [],
});
const runs = Array.from({ length: 10_000 }, (_, i) => run(i));
const report: MigrationReport = {
  runs,
  totals: { runs: runs.length, migrated: 8571, skipped: 0, failed: 1429, pending: 0, points: 123, pointsAlreadyPresent: 0, files: 10_000, filesAlreadyPresent: 0, bytes: 5, omitted: 3334 },
  nonDefaultOmissions: 0,
};
// Hands the runs over one at a time, as the ledger does, and counts how many were asked for.
let handedOut = 0;
const streamed = { totals: report.totals, nonDefaultOmissions: report.nonDefaultOmissions, *runs() { for (const r of runs) { handedOut++; yield r; } } };

describe('report output', () => {
  it('--json: the same line as JSON.stringify of the whole event, written in pieces of ~16 K characters', () => {
    const pieces: string[] = [];
    const requests = { source: { graphql: 3 }, target: { points: 9 } };
    handedOut = 0;
    writeJsonReport((t) => { pieces.push(t); }, streamed, requests, '2026-11-29T21:00:00.000Z');
    expect(pieces.join('')).toBe(`${JSON.stringify({ type: 'report', report, requests, time: '2026-11-29T21:00:00.000Z' })}\n`);
    expect(handedOut).toBe(runs.length);
    expect(pieces.length).toBeGreaterThan(10);
    for (const p of pieces) expect(p.length).toBeLessThan(16 * 1024 + 1024);
  });

  it('text: formatReport\'s lines, to every writer, in pieces', () => {
    const a: string[] = [];
    const b: string[] = [];
    writeTextReport([(t) => { a.push(t); }, (t) => { b.push(t); }], streamed, { dryRun: false });
    expect(a.join('')).toBe(`${formatReport(report)}\n`);
    expect(b).toEqual(a);
    expect(a.length).toBeGreaterThan(10);
  });

  it('no piece is large enough for V8\'s large-object space, even as a two-byte string', () => {
    // The text report's "—" makes its pieces two-byte strings (2 bytes a character). V8 puts an object
    // over 128 KB in the large-object space, freed only by a full collection: the 10,000 runs' report
    // piled up there as garbage (PIECE_CHARS says more). A piece and the copies made of it (the log
    // line) stay well under that: at most 64 KB as two-byte text.
    const text: string[] = [];
    const json: string[] = [];
    writeTextReport([(t) => { text.push(t); }], streamed, { dryRun: false });
    writeJsonReport((t) => { json.push(t); }, streamed, { target: {} }, 'now');
    expect(text.some((p) => p.includes('—'))).toBe(true);
    for (const p of [...text, ...json]) expect(p.length * 2).toBeLessThan(64 * 1024);
  });

  it('waits for a stream that is full: a slow reader holds the writer back, not the report in memory', async () => {
    // A reader that has read nothing yet: the stream's buffer (16 KB mark) fills with the first pieces.
    const stdout = new PassThrough({ highWaterMark: 16 * 1024 });
    handedOut = 0;
    const writing = writeJsonReport(streamPieces(stdout), streamed, { target: {} }, 'now');
    await new Promise((resolve) => setImmediate(resolve));
    // Held back after the piece that filled the buffer: a few runs handed out, not 10,000, and the
    // buffer holds one piece and a half at most.
    expect(handedOut).toBeLessThan(100);
    expect(stdout.writableLength).toBeLessThanOrEqual(16 * 1024 + 17 * 1024);
    let text = '';
    stdout.setEncoding('utf8').on('data', (t: string) => { text += t; });
    await writing;
    await new Promise((resolve) => setImmediate(resolve));
    expect(text).toBe(`${JSON.stringify({ type: 'report', report, requests: { target: {} }, time: 'now' })}\n`);
    expect(handedOut).toBe(runs.length);
  });
});
