export { createWandbSource, type WandbSource, type WandbSourceOptions } from './source.ts';
export { resolveWandbSettings, appUrlFromBase, netrcPassword, DEFAULT_WANDB_BASE_URL, type WandbSettings, type ResolveWandbOptions } from './settings.ts';
export { GraphqlTransport, basicAuth, type GraphqlTransportOptions } from './graphql.ts';
export * as wandbQueries from './queries.ts';
export { parseExtendedJson, parseExtendedJsonObject, ExtendedJsonError } from '../extended-json.ts';
export { runFilterToMongo } from './filters.ts';
export { unwrapConfig, runNodeToInfo, projectNodeToSource, lastStepOf, toIsoUtc, type RunNode, type ProjectNode } from './run-info.ts';
export { decodeParquetValue } from './parquet-rows.ts';
export { consoleFileOrder } from './files.ts';
