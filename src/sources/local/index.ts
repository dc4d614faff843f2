export { createLocalSource, type LocalSourceOptions } from './source.ts';
export { discoverRunFolders, asRunFolder, copiedRunFolders, type RunFolder } from './discover.ts';
export {
  readLogRecords, BLOCK_SIZE, CHUNK_HEADER_SIZE, FILE_HEADER, CHUNK_FULL, CHUNK_FIRST, CHUNK_MIDDLE, CHUNK_LAST,
  type LogDamage, type LogPayload, type ReadLogOptions,
} from './wandb-log/container.ts';
export * from './wandb-log/proto.ts';
export { scanLog, applyUpdate, type LogScan } from './log-scan.ts';
export { loadFolder, buildRunInfo, folderIdentity, runState, sdkVersion, type LoadedFolder, type IdentityDefaults } from './run-model.ts';
export { folderHistory, folderConsole, folderSystem } from './streams.ts';
export { listRunFiles, md5Base64, type ListedFile } from './files.ts';
export { ConsoleAssembler } from '../console-lines.ts';
export { rowFromRecord, liftRow, StepSequencer, type RawRow } from './history-rows.ts';
export { parseConfigYaml } from './config-yaml.ts';
export * from './values.ts';
export { readJsonLines, readJsonObject } from './jsonl.ts';
