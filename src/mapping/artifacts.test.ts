import { describe, expect, it } from 'vitest';
import type { ArtifactVersion } from '../core/artifacts.ts';
import { PROTOCOL_A_CAPABILITIES, protocolBCapabilities } from './capabilities.ts';
import { artifactBase, mapArtifactFields, mapUsedArtifacts, planArtifact } from './artifacts.ts';

const version = (over: Partial<ArtifactVersion> = {}): ArtifactVersion => ({
  key: 'e/p/model:v3', name: 'model', version: 'v3', type: 'model', digest: 'abc', aliases: ['latest', 'best'], size: 10, handle: undefined, ...over,
});

describe('artifacts mapping (mapping.md, artifacts rows)', () => {
  it('fields: type, digest, aliases (sorted set), size, and description/metadata when given', () => {
    expect(mapArtifactFields(version({ description: 'd', metadata: '{"a":1}' }), PROTOCOL_A_CAPABILITIES)).toEqual([
      { path: 'artifacts/model/v3/type', value: { type: 'string', value: 'model' } },
      { path: 'artifacts/model/v3/digest', value: { type: 'string', value: 'abc' } },
      { path: 'artifacts/model/v3/aliases', value: { type: 'stringSet', values: ['best', 'latest'] } },
      { path: 'artifacts/model/v3/size', value: { type: 'int', value: 10 } },
      { path: 'artifacts/model/v3/description', value: { type: 'string', value: 'd' } },
      { path: 'artifacts/model/v3/metadata', value: { type: 'string', value: '{"a":1}' } },
    ]);
    expect(mapArtifactFields(version({ metadata: '{}' }), PROTOCOL_A_CAPABILITIES).map((f) => f.path)).not.toContain('artifacts/model/v3/metadata');
  });

  it('a size beyond int32 is a float under A and an int under B', () => {
    const big = version({ size: 5 * 2 ** 30 });
    expect(mapArtifactFields(big, PROTOCOL_A_CAPABILITIES)[3].value).toEqual({ type: 'float', value: 5 * 2 ** 30 });
    expect(mapArtifactFields(big, protocolBCapabilities())[3].value).toEqual({ type: 'int', value: 5 * 2 ** 30 });
  });

  it('used versions: one string set of name:version, none when none were used', () => {
    expect(mapUsedArtifacts([version(), version({ name: 'data', version: 'v0' }), version()])).toEqual([
      { path: 'artifacts/used', value: { type: 'stringSet', values: ['data:v0', 'model:v3'] } },
    ]);
    expect(mapUsedArtifacts([])).toEqual([]);
  });

  it('a name with "/" stays one path segment', () => {
    expect(artifactBase({ name: 'run-abc/history', version: 'v0' })).toBe('artifacts/run-abc_history/v0');
  });

  it('plans stored files; empty, climbing, oversized and reference entries are report lines; references keep the manifest as a file', () => {
    const manifest = {
      json: '{}',
      entries: [
        { path: 'a/b.bin', digest: 'x', size: 5 },
        { path: 'empty', digest: 'y', size: 0 },
        { path: '../up', digest: 'z', size: 1 },
        { path: 'huge', digest: 'h', size: 100 },
        { path: 'r1', digest: 'e', size: 1, ref: 's3://b/k' },
        { path: 'r2', digest: 'e', size: 1, ref: 'https://h/x' },
      ],
    };
    const plan = planArtifact(version(), manifest, PROTOCOL_A_CAPABILITIES, 50);
    expect(plan.files.map((f) => f.relativePath)).toEqual(['a/b.bin']);
    expect(plan.omissions.map((o) => [o.reason, o.subject, o.count])).toEqual([
      ['empty-file', 'artifacts/model/v3/files/empty', 1],
      ['invalid-path', 'artifacts/model/v3/files/../up', 1],
      ['too-large', 'artifacts/model/v3/files/huge', 1],
      ['unsupported-value', 'artifacts/model/v3/references', 2],
    ]);
    expect(plan.omissions[3].detail).toContain('https://, s3://');
    expect(plan.manifestFile).toEqual({ path: 'artifacts/model/v3/manifest', relativePath: 'wandb_manifest.json' });
    expect(planArtifact(version(), { json: '{}', entries: [manifest.entries[0]] }, PROTOCOL_A_CAPABILITIES).manifestFile).toBeUndefined();
  });
});
