/** Public API of the W&B emulator (a test double of W&B's read API; the product never imports it). */
export { startWandbEmulator } from './server/http.ts';
export type { WandbEmulator, WandbEmulatorOptions, EmulatorStats } from './server/http.ts';
export type { FaultConfig } from './server/faults.ts';
export { generateEntity } from './generator/generate.ts';
export type { GenEntity, GenProject, GenRun, GenFile, GeneratorSpec, RunState } from './generator/types.ts';
export { loadFixtureFolder } from './fixture-folder.ts';
export { stringifyExtJson, parseExtJson } from './ext-json.ts';
