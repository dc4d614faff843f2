/** Neptune (Protocol A, legacy REST/JSON) emulator: public API. */
export { startNeptuneEmulator } from './server.ts';
export type {
  NeptuneEmulator, NeptuneEmulatorOptions, NeptuneFaultConfig, NeptuneInspect, NeptuneLimits, NeptuneStats,
} from './types.ts';
