import { describe, expect, it } from 'vitest';
import { runFilterToMongo } from './filters.ts';
import { unwrapConfig } from '../config.ts';
import { lastStepOf, parseJsonStringField, provenanceOf, runNodeToInfo, toIsoUtc, type RunNode } from './run-info.ts';
import { appUrlFromBase } from './settings.ts';

describe('runFilterToMongo', () => {
  it('is {} for an empty filter', () => {
    expect(runFilterToMongo({})).toEqual({});
    expect(runFilterToMongo({ runIds: [], tags: [] })).toEqual({});
  });
  it('sends a single condition bare', () => {
    expect(runFilterToMongo({ runIds: ['ab12cd34', 'ef56gh78'] })).toEqual({ name: { $in: ['ab12cd34', 'ef56gh78'] } });
  });
  it('joins conditions with $and, in the SDK field names', () => {
    expect(
      runFilterToMongo({ states: ['finished', 'crashed'], createdAfter: '2025-01-01T00:00:00Z', createdBefore: '2025-02-01T00:00:00Z', tags: ['a', 'b'] }),
    ).toEqual({
      $and: [
        { state: { $in: ['finished', 'crashed'] } },
        { createdAt: { $gte: '2025-01-01T00:00:00Z' } },
        { createdAt: { $lt: '2025-02-01T00:00:00Z' } },
        { tags: { $in: ['a', 'b'] } },
      ],
    });
  });
});

describe('config and run metadata', () => {
  it('unwraps {value, desc} and {value} one level, leaving other entries alone', () => {
    const raw = parseJsonStringField(
      '{"lr": {"value": 0.1, "desc": null}, "opt": {"value": {"name": "adam", "value": 3}}, "eps": {"value": NaN}, "plain": 5, "obj": {"x": 1}, "_wandb": {"value": {"cli_version": "0.19.0"}}}',
      'run e/p/r',
      'config',
    );
    const c = unwrapConfig(raw);
    expect(c.lr).toBe(0.1);
    expect(c.opt).toEqual({ name: 'adam', value: 3 });
    expect(c.eps).toBeNaN();
    expect(c.plain).toBe(5);
    expect(c.obj).toEqual({ x: 1 });
    expect(c._wandb).toEqual({ cli_version: '0.19.0' });
  });

  it('names the run and field when a JSONString is broken', () => {
    expect(() => parseJsonStringField('{"a": ', 'run acme/vision/ab12', 'summaryMetrics')).toThrow(/acme\/vision\/ab12: summaryMetrics/);
  });

  it('accepts double-encoded and empty JSONStrings', () => {
    expect(parseJsonStringField(JSON.stringify('{"a": 1}'), 'w', 'config')).toEqual({ a: 1 });
    expect(parseJsonStringField(null, 'w', 'config')).toEqual({});
    expect(parseJsonStringField('null', 'w', 'config')).toEqual({});
  });

  it('reads lastStep, -1 when absent', () => {
    expect(lastStepOf({ lastStep: 41, keys: {} })).toBe(41);
    expect(lastStepOf('{"lastStep": 7}')).toBe(7);
    expect(lastStepOf({})).toBe(-1);
    expect(lastStepOf(null)).toBe(-1);
  });

  it('treats zone-less dates as UTC', () => {
    expect(toIsoUtc('2023-11-05T17:46:35')).toBe('2023-11-05T17:46:35.000Z');
    expect(toIsoUtc('2021-01-01T00:00:00Z')).toBe('2021-01-01T00:00:00.000Z');
    expect(toIsoUtc(null)).toBeUndefined();
  });

  it('maps a run node into RunInfo', () => {
    const node: RunNode = {
      id: 'UnVuOjE=', name: 'ab12cd34', projectId: '17', tags: ['x'], displayName: 'run one', sweepName: 'sw1', state: 'finished',
      config: '{"lr": {"value": 0.5, "desc": null}}', group: 'g', jobType: 'train', commit: 'abc', createdAt: '2025-03-01T09:00:00',
      heartbeatAt: '2025-03-01T10:00:00Z', notes: 'n', summaryMetrics: '{"loss": Infinity, "_step": 9}', historyLineCount: 10,
      user: { name: 'Alice', username: 'alice' }, historyKeys: { lastStep: 9 },
    };
    const info = runNodeToInfo(node, 'acme', 'vision', 'https://wandb.ai');
    expect(info).toMatchObject({
      key: { entity: 'acme', project: 'vision', runId: 'ab12cd34' }, displayName: 'run one', tags: ['x'], group: 'g', jobType: 'train',
      state: 'finished', sweep: 'sw1', createdAt: '2025-03-01T09:00:00.000Z', heartbeatAt: '2025-03-01T10:00:00.000Z', commit: 'abc',
      user: 'alice', url: 'https://wandb.ai/acme/vision/runs/ab12cd34', historyLineCount: 10, lastStep: 9, config: { lr: 0.5 }, notes: 'n',
    });
    expect(info.summary.loss).toBe(Infinity);
  });

  it('derives the web URL from the API URL like the SDK', () => {
    expect(appUrlFromBase('https://api.wandb.ai')).toBe('https://wandb.ai');
    expect(appUrlFromBase('https://api.wandb.test')).toBe('https://app.wandb.test');
    expect(appUrlFromBase('https://api.corp.example')).toBe('https://app.corp.example');
    expect(appUrlFromBase('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(appUrlFromBase('https://api.wandb.ai', 'https://custom.app/')).toBe('https://custom.app');
  });
});

describe('provenance from wandb-metadata.json', () => {
  it('takes the host and the scalar facts, under the names the local source uses', () => {
    expect(provenanceOf({ host: 'gpu-07', os: 'Linux', python: '3.11.4', program: 'train.py', gpu_count: 2, git: { remote: 'r', commit: 'c' }, args: ['--x'] })).toEqual({
      host: 'gpu-07',
      extra: { os: 'Linux', python: '3.11.4', program: 'train.py', gpuCount: 2, gitRemote: 'r' },
    });
    expect(provenanceOf(null)).toEqual({});
    expect(provenanceOf({ host: '' })).toEqual({ host: undefined, extra: {} });
  });
});

describe('a run whose config or summary is not valid JSON', () => {
  const node = { id: 'UnVuOjE=', name: 'r1', createdAt: '2024-01-01T00:00:00', config: '{"lr": {"value": 0.1}', summaryMetrics: '{"acc": 1}' };
  it('is still listed, with the field empty, its raw text kept, and a notice naming the run and the field', () => {
    const notices: string[] = [];
    const info = runNodeToInfo(node, 'e', 'p', 'https://wandb.example', (m, field) => notices.push(`${field}: ${m}`));
    expect(info.config).toEqual({});
    expect(info.summary).toEqual({ acc: 1 });
    expect(info.extra?.configRaw).toBe('{"lr": {"value": 0.1}');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^config: run e\/p\/r1: config is not valid JSON/);
  });
  it('without a notice sink, is an error naming the run and the field', () => {
    expect(() => runNodeToInfo(node, 'e', 'p', 'https://wandb.example')).toThrow(/run e\/p\/r1: config is not valid JSON/);
  });
});
