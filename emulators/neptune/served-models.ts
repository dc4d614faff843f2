/**
 * The models the 2023 servers served (neptune-served-swagger/2023/*.json `definitions`, reachable from
 * the operations this emulator routes; descriptions dropped), in `served-models.json`. Both the served
 * specs (swagger.ts) and the executeOperations validators (validators.ts) read them from here, so what
 * the emulator declares and what it accepts are one table.
 */
import { readFileSync } from 'node:fs';
import type { ApiName, Schema } from './openapi.ts';

const MODELS = JSON.parse(readFileSync(new URL('./served-models.json', import.meta.url), 'utf8')) as Record<ApiName, Record<string, Schema>>;

export function servedDefinitions(api: ApiName): Record<string, Schema> {
  return MODELS[api];
}
