import { ConfigError } from '../../core/errors.ts';

/** What a Neptune API token carries once decoded. `apiBase` is where every call goes first. */
export interface NeptuneCredentials {
  apiToken: string;
  apiKey: string;
  apiAddress: string;
  apiUrl?: string;
  /** `api_url ?? api_address`, without a trailing slash. Any host: self-hosted servers are first-class. */
  apiBase: string;
}

function normaliseBase(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return url.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/**
 * Decodes a Neptune API token: standard base64 of `{api_address, api_url?, api_key}`.
 * Errors name what is wrong, never the token or any part of it.
 */
export function parseNeptuneToken(token: string): NeptuneCredentials {
  const trimmed = token.replace(/\s+/g, '');
  const bad = (why: string) => new ConfigError([`invalid Neptune API token: ${why}`]);
  if (!trimmed) throw bad('empty');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) throw bad('not base64');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(trimmed, 'base64').toString('utf8'));
  } catch {
    throw bad('not base64-encoded JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('not a JSON object');
  const o = parsed as Record<string, unknown>;
  if (typeof o.api_address !== 'string' || !o.api_address) throw bad('missing api_address');
  if (typeof o.api_key !== 'string' || !o.api_key) throw bad('missing api_key');
  if (o.api_url !== undefined && o.api_url !== null && typeof o.api_url !== 'string') throw bad('api_url is not a string');
  const apiAddress = normaliseBase(o.api_address);
  if (!apiAddress) throw bad('api_address is not an http(s) URL');
  const apiUrl = typeof o.api_url === 'string' && o.api_url ? normaliseBase(o.api_url) : undefined;
  if (typeof o.api_url === 'string' && o.api_url && !apiUrl) throw bad('api_url is not an http(s) URL');
  return { apiToken: trimmed, apiKey: o.api_key, apiAddress, apiUrl, apiBase: apiUrl ?? apiAddress };
}

/** Builds a token the way Neptune does (used by tests and emulators). */
export function encodeNeptuneToken(fields: { api_address: string; api_key: string; api_url?: string }): string {
  return Buffer.from(JSON.stringify(fields), 'utf8').toString('base64');
}

export interface NeptuneSettings {
  credentials: NeptuneCredentials;
  /** `workspace/project` when given. */
  project?: { workspace: string; name: string };
}

/** Splits `workspace/project`; undefined when malformed. */
export function parseProjectPath(path: string): { workspace: string; name: string } | undefined {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(path.trim());
  return m ? { workspace: m[1], name: m[2] } : undefined;
}

/**
 * Token and project from options first, then `NEPTUNE_API_TOKEN` / `NEPTUNE_PROJECT`.
 * Lists every problem at once.
 */
export function resolveNeptuneSettings(
  env: Record<string, string | undefined>,
  opts: { token?: string; project?: string } = {},
): NeptuneSettings {
  const problems: string[] = [];
  const token = opts.token ?? env.NEPTUNE_API_TOKEN;
  let credentials: NeptuneCredentials | undefined;
  if (!token) problems.push('no Neptune API token (set NEPTUNE_API_TOKEN or pass a token)');
  else {
    try {
      credentials = parseNeptuneToken(token);
    } catch (e) {
      problems.push(...(e instanceof ConfigError ? e.problems : ['invalid Neptune API token']));
    }
  }
  const projectText = opts.project ?? env.NEPTUNE_PROJECT;
  let project: NeptuneSettings['project'];
  if (projectText !== undefined && projectText !== '') {
    project = parseProjectPath(projectText);
    if (!project) problems.push(`Neptune project must look like workspace/project, got "${projectText}"`);
  }
  if (problems.length || !credentials) throw new ConfigError(problems);
  return { credentials, project };
}
