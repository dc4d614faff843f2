/**
 * Checks the hand-written validators against the leaderboard swagger's `Operation` model when the
 * reference copy is present (it is not needed to run the emulator).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENTRY_MODELS, IMAGE_MODEL, OPERATION_MODELS, type FieldKind, type ModelSpec } from './validators.ts';
import { sharedPath } from '../../test/support/shared.ts';

const SWAGGER = sharedPath('reference/neptune-legacy-swagger/leaderboard.json');

interface SwaggerProp { $ref?: string; type?: string; format?: string; items?: { $ref?: string; type?: string } }
interface SwaggerDef { required?: string[]; properties?: Record<string, SwaggerProp> }

/** What our FieldKind means in swagger terms. */
function swaggerShape(kind: FieldKind): string {
  const map: Record<FieldKind, string> = {
    string: 'string', int32: 'integer:int32', int64: 'integer:int64', double: 'number:double', bool: 'boolean',
    stringArray: 'array:string', floatEntries: 'array:LogFloatEntry', stringEntries: 'array:LogStringEntry',
    imageEntries: 'array:LogImageEntry', typeDef: 'ref:TypeDefinitionDTO', image: 'ref:Image',
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

describe('validators agree with leaderboard.json', () => {
  it('Operation keys, referenced models, required fields and field types', () => {
    if (!existsSync(SWAGGER)) {
      console.warn(`SKIPPING swagger comparison: ${SWAGGER} not found (validators are still exercised by the other tests)`);
      expect(Object.keys(OPERATION_MODELS).length).toBeGreaterThan(0);
      return;
    }
    const defs = (JSON.parse(readFileSync(SWAGGER, 'utf8')) as { definitions: Record<string, SwaggerDef> }).definitions;
    const opProps = defs.Operation.properties ?? {};
    const swaggerKeys = Object.keys(opProps).filter((k) => k !== 'path').sort();
    expect(Object.keys(OPERATION_MODELS).sort()).toEqual(swaggerKeys);
    expect(opProps.path.type).toBe('string');
    for (const [key, spec] of Object.entries(OPERATION_MODELS)) {
      expect(shapeOf(opProps[key]), `Operation.${key}`).toBe(`ref:${spec.model}`);
      compare(defs, spec);
    }
    for (const spec of [...Object.values(ENTRY_MODELS), IMAGE_MODEL]) compare(defs, spec);
    expect(defs.OperationError.properties?.errorType).toMatchObject({ enum: ['metadata_inconsistency', 'logSeriesValueError', 'assignFloatValueError'] });
  });
});
