import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ALL_QUERIES } from '../../src/sources/wandb/queries.ts';
import { sharedPath } from '../support/shared.ts';

const SCHEMA = sharedPath('reference/wandb-schema.graphql');
const schema = buildSchema(readFileSync(SCHEMA, 'utf8'));

describe('every W&B query document', () => {
  it('exports the documents', () => {
    expect(Object.keys(ALL_QUERIES).length).toBeGreaterThanOrEqual(10);
  });

  for (const [name, text] of Object.entries(ALL_QUERIES)) {
    it(`${name} parses and validates against the reconstructed W&B schema`, () => {
      const doc = parse(text);
      expect(doc.definitions.length).toBeGreaterThan(0);
      expect(validate(schema, doc).map((e) => e.message)).toEqual([]);
    });
  }
});
