import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { parseExtJson } from './ext-json.ts';
import { loadFixtureFolder } from './fixture-folder.ts';
import { startWandbEmulator, type WandbEmulator } from './server/http.ts';
import { gql, HISTORY_PAGE, KEY, PARQUET_HISTORY, RUN_FILES } from './test-helpers.ts';

const dir = fileURLToPath(new URL('./fixtures/example', import.meta.url));
const entity = loadFixtureFolder(dir);
let emu: WandbEmulator;
beforeAll(async () => { emu = await startWandbEmulator({ apiKeys: [KEY], entity }); });
afterAll(async () => emu.close());

describe('fixture folder', () => {
  it('loads the example folder', () => {
    expect(entity.name).toBe('example-team');
    const [p] = entity.projects;
    expect(p.name).toBe('demo-project');
    const r = p.runs.find((x) => x.id === 'run0001')!;
    expect(r.historyRowCount).toBe(4);
    expect(r.lastStep).toBe(5);
    expect(Number.isNaN((r.config as { eps: number }).eps)).toBe(true);
    expect(r.summary.best_loss).toBe(0.25);
    expect(r.summary.loss).toBe(Infinity);
    expect(r.files.map((f) => f.name)).toEqual(['code/train.py', 'empty.bin', 'media/images/img_5_abc.png', 'output.log', 'requirements.txt', 'wandb-events.jsonl']);
    expect(p.runs.find((x) => x.id === 'run0002')!.lastStep).toBe(-1);
  });

  it('serves fixture history and its export split at exportedBelowStep', async () => {
    const hp = await gql(emu, HISTORY_PAGE, { entity: 'example-team', project: 'demo-project', run: 'run0001', minStep: 0, maxStep: 1000, pageSize: 1000 });
    const rows = hp.body.data?.project.run.history.map((s: string) => parseExtJson(s));
    expect(rows.map((r: { _step: number }) => r._step)).toEqual([0, 1, 2, 5]);
    expect(Number.isNaN(rows[1].acc)).toBe(true);
    const ph = await gql(emu, PARQUET_HISTORY, { entity: 'example-team', project: 'demo-project', runName: 'run0001', liveKeys: ['_step', 'loss'] });
    // JSON-typed liveData cannot carry bare Infinity: it becomes the string "Infinity"
    expect(ph.body.data?.project.run.parquetHistory.liveData).toEqual([{ _step: 5, loss: 'Infinity' }]);
    expect(ph.body.data?.project.run.parquetHistory.parquetUrls).toHaveLength(1);
    const files = await gql(emu, RUN_FILES, { project: 'demo-project', entity: 'example-team', name: 'run0001', pattern: '%.log' });
    const node = files.body.data?.project.run.files.edges[0].node;
    expect(node.name).toBe('output.log');
    expect(await (await fetch(node.directUrl)).text()).toBe('starting training\nepoch 0 loss=1.0\nünïcödé line ✓\ndone\n');
  });
});
