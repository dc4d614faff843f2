/**
 * The executeOperations validators, derived from the served models, against the 2023 served
 * leaderboard spec itself (`Operation` and every model it references), and what that means on the
 * wire: the 2023 server's `assignArtifact` is accepted, the 2025 copy's `assignComplex` is not.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from './index.ts';
import { session } from './test-client.ts';
import { ENTRY_MODELS, IMAGE_MODEL, OPERATION_MODELS, type FieldKind, type ModelSpec } from './validators.ts';
import { sharedPath } from '../../test/support/shared.ts';

const SWAGGER = sharedPath('reference/neptune-served-swagger/2023/leaderboard.json');

interface SwaggerProp { $ref?: string; type?: string; format?: string; items?: { $ref?: string; type?: string } }
interface SwaggerDef { required?: string[]; properties?: Record<string, SwaggerProp> }

/** What our FieldKind means in swagger terms. */
function swaggerShape(kind: FieldKind): string {
  const map: Record<FieldKind, string> = {
    string: 'string', int32: 'integer:int32', int64: 'integer:int64', double: 'number:double', bool: 'boolean',
    stringArray: 'array:string', floatEntries: 'array:LogFloatEntry', stringEntries: 'array:LogStringEntry',
    imageEntries: 'array:LogImageEntry', image: 'ref:Image',
  };
  return map[kind];
}
function shapeOf(p: SwaggerProp): string {
  const ref = (r: string) => r.replace('#/definitions/', '');
  if (p.$ref) return `ref:${ref(p.$ref)}`;
  if (p.type === 'array') return `array:${p.items?.$ref ? ref(p.items.$ref) : p.items?.type}`;
  return p.format ? `${p.type}:${p.format}` : String(p.type);
}
function compare(defs: Record<string, SwaggerDef>, spec: ModelSpec): void {
  const d = defs[spec.model];
  expect(d, `swagger has ${spec.model}`).toBeDefined();
  expect([...(d.required ?? [])].sort(), `${spec.model}.required`).toEqual([...spec.required].sort());
  const theirs = Object.fromEntries(Object.entries(d.properties ?? {}).map(([k, v]) => [k, shapeOf(v)]));
  const ours = Object.fromEntries(Object.entries(spec.fields).map(([k, v]) => [k, swaggerShape(v)]));
  expect(ours, `${spec.model} fields`).toEqual(theirs);
}

describe('validators agree with the 2023 served leaderboard.json', () => {
  it('Operation keys, referenced models, required fields and field types', () => {
    expect(existsSync(SWAGGER), `${SWAGGER} (the steering repo's shared/ beside the clone, or W2N_SHARED)`).toBe(true);
    const defs = (JSON.parse(readFileSync(SWAGGER, 'utf8')) as { definitions: Record<string, SwaggerDef> }).definitions;
    const opProps = defs.Operation.properties ?? {};
    const swaggerKeys = Object.keys(opProps).filter((k) => k !== 'path').sort();
    expect(Object.keys(OPERATION_MODELS).sort()).toEqual(swaggerKeys);
    expect(swaggerKeys).toContain('assignArtifact');
    expect(opProps.path.type).toBe('string');
    for (const [key, spec] of Object.entries(OPERATION_MODELS)) {
      expect(shapeOf(opProps[key]), `Operation.${key}`).toBe(`ref:${spec.model}`);
      compare(defs, spec);
    }
    for (const spec of [...Object.values(ENTRY_MODELS), IMAGE_MODEL]) compare(defs, spec);
    expect(defs.OperationError.properties?.errorType).toMatchObject({ enum: ['metadata_inconsistency', 'logSeriesValueError', 'assignFloatValueError'] });
  });

  it('accepts assignArtifact and reads it back; refuses assignComplex, which the 2023 server did not know', async () => {
    const emu = await startNeptuneEmulator();
    try {
      const s = await session(emu);
      const run = (await s.createRun((await s.createProject('ops-2023')).id, 'a')).id;
      expect((await s.ops(run, [{ path: 'data/ds', assignArtifact: { hash: 'abc123' } }])).json).toEqual([]);
      const a = await s.api('/api/leaderboard/v1/attributes', { experimentId: run });
      expect(a.json.attributes.find((x: { name: string }) => x.name === 'data/ds')).toEqual({
        name: 'data/ds', type: 'artifact', artifactProperties: { attributeName: 'data/ds', attributeType: 'artifact', hash: 'abc123' },
      });
      const complex = await s.ops(run, [{ path: 'c', assignComplex: { __type: { name: 'x' }, __content: '{}' } }]);
      expect(complex.status).toBe(400);
      expect(emu.inspect.attributes(run).c).toBeUndefined();
    } finally { await emu.close(); }
  });
});
