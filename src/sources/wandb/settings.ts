import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.ts';

export const DEFAULT_WANDB_BASE_URL = 'https://api.wandb.ai';

export interface WandbSettings {
  /** API base URL without a trailing slash. */
  baseUrl: string;
  /** Web app URL for links (api.wandb.ai → wandb.ai; self-hosted: the same host). */
  appUrl: string;
  apiKey: string;
  /** Where the key came from, for messages (never the key itself). */
  keySource: 'option' | 'WANDB_API_KEY' | 'netrc';
  /** Undefined means "ask the server for the viewer's default entity". */
  entity?: string;
}

export interface ResolveWandbOptions {
  baseUrl?: string;
  apiKey?: string;
  entity?: string;
  /** Home directory for `~/.netrc` (tests). */
  homeDir?: string;
}

/**
 * Settings as the SDK resolves them: explicit option, then `WANDB_API_KEY`, then netrc
 * (`$NETRC`, else `~/.netrc`, else `~/_netrc`; machine = host[:port] of the base URL; key = password).
 */
export function resolveWandbSettings(
  env: NodeJS.ProcessEnv = process.env,
  opts: ResolveWandbOptions = {},
): WandbSettings {
  const problems: string[] = [];
  const rawBase = opts.baseUrl ?? nonEmpty(env.WANDB_BASE_URL) ?? DEFAULT_WANDB_BASE_URL;
  const baseUrl = rawBase.replace(/\/+$/, '');
  let host = '';
  try {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`WANDB_BASE_URL must be http(s): ${baseUrl}`);
    host = u.host;
  } catch {
    problems.push(`WANDB_BASE_URL is not a URL: ${baseUrl}`);
  }
  let apiKey = nonEmpty(opts.apiKey);
  let keySource: WandbSettings['keySource'] = 'option';
  if (!apiKey && nonEmpty(env.WANDB_API_KEY)) {
    apiKey = env.WANDB_API_KEY!.trim();
    keySource = 'WANDB_API_KEY';
  }
  if (!apiKey && host) {
    const file = netrcPath(env, opts.homeDir);
    if (file) {
      apiKey = netrcPassword(readFileSync(file, 'utf8'), host);
      keySource = 'netrc';
    }
  }
  if (!apiKey) {
    problems.push(`no W&B API key: set WANDB_API_KEY, or add a netrc entry "machine ${host || '<api host>'} login user password <key>" (run \`wandb login\`)`);
  }
  if (problems.length) throw new ConfigError(problems);
  return { baseUrl, appUrl: appUrlFromBase(baseUrl, env.WANDB_APP_URL), apiKey: apiKey!, keySource, entity: opts.entity ?? nonEmpty(env.WANDB_ENTITY) };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v && v.trim() !== '' ? v.trim() : undefined;
}

function netrcPath(env: NodeJS.ProcessEnv, home?: string): string | undefined {
  if (nonEmpty(env.NETRC)) return existsSync(env.NETRC!) ? env.NETRC : undefined;
  const dir = home ?? homedir();
  for (const name of ['.netrc', '_netrc']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The password of `machine <host>` (or of `default`) in a netrc text. */
export function netrcPassword(text: string, machine: string): string | undefined {
  const tokens = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join(' ')
    .split(/\s+/)
    .filter(Boolean);
  let current: string | undefined;
  let fallback: string | undefined;
  let found: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === 'machine') current = tokens[++i];
    else if (t === 'default') current = '\u0000default';
    else if (t === 'password') {
      const pw = tokens[++i];
      if (current === machine && found === undefined) found = pw;
      if (current === '\u0000default' && fallback === undefined) fallback = pw;
    } else if (t === 'login' || t === 'account') i++;
    else if (t === 'macdef') break; // macros run to a blank line; nothing we need lies after them in practice
  }
  return found ?? fallback;
}

/**
 * The web URL for an API base URL, with the same rules as the SDK's `app_url`: `WANDB_APP_URL` wins;
 * `api.wandb.test` → `app.wandb.test`; `api.wandb.*` → `wandb.*`; other `api.*` → `app.*` (on-prem
 * cloud); anything else (wandb/local, self-hosted) is its own app URL.
 */
export function appUrlFromBase(baseUrl: string, appUrlEnv?: string): string {
  if (appUrlEnv && appUrlEnv.trim()) return appUrlEnv.trim().replace(/\/+$/, '');
  const base = baseUrl.replace(/\/+$/, '');
  if (base.includes('://api.wandb.test')) return base.replace('://api.', '://app.');
  if (base.includes('://api.wandb.')) return base.replace('://api.', '://');
  if (base.includes('://api.')) return base.replace('://api.', '://app.');
  return base;
}
