import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { RunInfo } from '../../core/records.ts';
import { batchDocument, bundleOf, planRun, planWeight, type PlanLimits } from './run-plan.ts';

const limits: PlanLimits = { pageSize: 1000, filesFirst: 50, eventsMax: 2000 };
const run = (over: Partial<RunInfo> = {}): RunInfo => ({ key: { entity: 'e', project: 'p', runId: 'r1' }, tags: [], config: {}, summary: {}, url: 'u', state: 'finished', lastStep: 19, ...over });
const schema = buildSchema(readFileSync(new URL('../../../../shared/reference/wandb-schema.graphql', import.meta.url), 'utf8'));

describe('planRun', () => {
  it('a finished small run: files, its whole history in one page, its system metrics', () => {
    expect(planRun(run(), { fileCount: 5, eventsLineCount: 7 }, limits)).toEqual({ key: run().key, files: true, historyStop: 20, eventSamples: 7 });
  });

  it('asks nothing the listing says is not there, and leaves big histories and event streams to their own queries', () => {
    expect(planRun(run({ lastStep: 5000 }), { fileCount: 0, eventsLineCount: 0 }, limits)).toBeUndefined();
    expect(planRun(run({ lastStep: 999 }), { fileCount: 0, eventsLineCount: 2001 }, limits)).toEqual({ key: run().key, files: false, historyStop: 1000 });
    expect(planRun(run({ lastStep: 1000 }), { fileCount: 1 }, limits)).toEqual({ key: run().key, files: true });
    // an empty history needs no page
    expect(planRun(run({ lastStep: -1 }), { fileCount: 1 }, limits)).toEqual({ key: run().key, files: true });
  });

  it('a running run: a whole page checked against its fresh historyKeys, and room for events logged since the listing', () => {
    expect(planRun(run({ state: 'running', lastStep: 10 }), { fileCount: 0, eventsLineCount: 5 }, limits)).toEqual({
      key: run().key, files: true, historyStop: 1000, freshKeys: true, eventSamples: 110,
    });
    expect(planRun(run({ state: 'running', lastStep: 1000 }), {}, limits)).toEqual({ key: run().key, files: true, eventSamples: 100 });
  });

  it('weighs a plan by the rows it may bring back', () => {
    expect(planWeight({ key: run().key, files: true, historyStop: 20, eventSamples: 7 }, limits)).toBe(1 + 50 + 20 + 7);
  });
});

describe('batchDocument', () => {
  it('is one valid document (reconstructed W&B schema), one alias per run, names only in variables', () => {
    const plans = [
      { key: { entity: 'e', project: 'p', runId: 'a"b' }, files: true, historyStop: 20, eventSamples: 7 },
      { key: { entity: 'e', project: 'q', runId: 'c' }, files: false, historyStop: 1000, freshKeys: true },
    ];
    const { query, variables } = batchDocument(plans, limits);
    expect(validate(schema, parse(query)).map((e) => e.message)).toEqual([]);
    expect(query).toContain('r0: project(name: $p0, entityName: $e0)');
    expect(query).toContain('r1: project(name: $p1, entityName: $e1)');
    expect(query).not.toContain('a"b');
    expect(variables).toEqual({ e0: 'e', p0: 'p', n0: 'a"b', e1: 'e', p1: 'q', n1: 'c' });
  });

  it('without any files asked, leaves the files fragment out (an unused fragment is invalid)', () => {
    const { query } = batchDocument([{ key: run().key, files: false, historyStop: 5 }], limits);
    expect(query).not.toContain('fragment');
    expect(validate(schema, parse(query)).map((e) => e.message)).toEqual([]);
  });
});

describe('bundleOf', () => {
  const fileNode = (name: string) => ({ id: name, name, url: `http://x/files/${name}`, directUrl: `http://s/${name}`, sizeBytes: '3', md5: 'm', updatedAt: '2024-01-01T00:00:00' });
  const files = (next: boolean) => ({ edges: [{ node: fileNode('a.txt'), cursor: 'c1' }], pageInfo: { endCursor: 'c1', hasNextPage: next } });

  it('reads files (with the cursor of a further page), the page and the events', () => {
    const plan = { key: run().key, files: true, historyStop: 20, eventSamples: 2 };
    const b = bundleOf(plan, { run: { files: files(true), history: ['{"_step":0}'], eventsLineCount: 2, events: ['{}', '{}'] } });
    expect(b).toEqual({
      files: { listed: [{ file: { name: 'a.txt', sizeBytes: 3, md5: 'm', updatedAt: '2024-01-01T00:00:00.000Z' }, location: { url: 'http://x/files/a.txt', directUrl: 'http://s/a.txt' } }], next: 'c1' },
      history: { stop: 20, rows: ['{"_step":0}'] },
      events: { total: 2, rows: ['{}', '{}'] },
    });
  });

  it('leaves out what is incomplete: a running page passed by lastStep, fewer events than the run holds', () => {
    const plan = { key: run().key, files: false, historyStop: 1000, freshKeys: true, eventSamples: 110 };
    expect(bundleOf(plan, { run: { history: [], historyKeys: { lastStep: 1000 }, eventsLineCount: 200, events: ['{}'] } })).toEqual({});
    expect(bundleOf(plan, { run: { history: [], historyKeys: { lastStep: 999 }, eventsLineCount: 1, events: ['{}'] } })).toEqual({
      history: { stop: 1000, rows: [] },
      events: { total: 1, rows: ['{}'] },
    });
  });

  it('a missing project or run gives no bundle (the run’s own queries report it)', () => {
    expect(bundleOf({ key: run().key, files: true }, null)).toBeUndefined();
    expect(bundleOf({ key: run().key, files: true }, { run: null })).toBeUndefined();
  });
});
