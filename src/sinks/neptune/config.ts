/** What `/api/backend/v1/clients/config` tells a Protocol A client, with the official client's defaults. */
export interface MultipartSettings {
  enabled: boolean;
  minChunkSize: number;
  maxChunkSize: number;
  maxChunkCount: number;
  maxSinglePartSize: number;
}

export interface ClientConfigInfo {
  /** Where all later calls go. */
  apiUrl: string;
  applicationUrl?: string;
  multipart: MultipartSettings;
}

const MiB = 1024 * 1024;

/** neptune-client 1.x `MultipartConfig.get_default()`. */
export const DEFAULT_MULTIPART: MultipartSettings = {
  enabled: false,
  minChunkSize: 5 * MiB,
  maxChunkSize: 1024 * MiB,
  maxChunkCount: 1000,
  maxSinglePartSize: 5 * MiB,
};

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}

/** Parses the config answer; anything missing falls back to the defaults (servers differ in what they send). */
export function parseClientConfig(json: unknown, fallbackApiUrl: string): ClientConfigInfo {
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const apiUrl = typeof o.apiUrl === 'string' && /^https?:\/\//.test(o.apiUrl) ? o.apiUrl.replace(/\/+$/, '') : fallbackApiUrl;
  const mp = (typeof o.multiPartUpload === 'object' && o.multiPartUpload !== null ? o.multiPartUpload : {}) as Record<string, unknown>;
  return {
    apiUrl,
    applicationUrl: typeof o.applicationUrl === 'string' ? o.applicationUrl : undefined,
    multipart: {
      enabled: mp.enabled === true,
      minChunkSize: num(mp.minChunkSize, DEFAULT_MULTIPART.minChunkSize),
      maxChunkSize: num(mp.maxChunkSize, DEFAULT_MULTIPART.maxChunkSize),
      maxChunkCount: num(mp.maxChunkCount, DEFAULT_MULTIPART.maxChunkCount),
      maxSinglePartSize: num(mp.maxSinglePartSize, DEFAULT_MULTIPART.maxSinglePartSize),
    },
  };
}
