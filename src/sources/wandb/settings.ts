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
 * (`$NETRC`, else `~/.netrc`, else `~/_netrc`; machine = the base URL's host, `netrcMachines`; key = password).
 */
export function resolveWandbSettings(
  env: NodeJS.ProcessEnv = process.env,
  opts: ResolveWandbOptions = {},
): WandbSettings {
  const problems: string[] = [];
  const rawBase = opts.baseUrl ?? nonEmpty(env.WANDB_BASE_URL) ?? DEFAULT_WANDB_BASE_URL;
  const baseUrl = rawBase.replace(/\/+$/, '');
  let host = '';
  let machines: string[] = [];
  try {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`WANDB_BASE_URL must be http(s): ${baseUrl}`);
    host = u.host;
    machines = netrcMachines(u);
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
      apiKey = netrcPassword(readFileSync(file, 'utf8'), machines);
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

/**
 * The netrc machines a W&B SDK wrote a key for the API at `u`, in the order they are looked up: what
 * the SDKs write differs by version.
 * - wandb ≤ 0.19.6 wrote the host without its port (`wandb/sdk/lib/apikey.py` `write_netrc`:
 *   `urlparse(host).netloc.split(":")[0]`) and read it so (`requests.utils.get_netrc_auth` strips the
 *   port; the Go core looked up `url.Hostname()`, `core/internal/settings/settings.go` `EnsureAPIKey`).
 * - wandb 0.19.7 on writes host:port (`apikey.py` `write_netrc`: `urlparse(host).netloc`, commit
 *   cd5e889565) while 0.19.7–0.23.0 still read the host alone (as above); from 0.23.1 it reads host:port
 *   (`wandb/sdk/lib/auth/wbnetrc.py`, now `wbauth/wbnetrc.py`, `read_netrc_auth_with_source`:
 *   `netrc_file.authenticators(urlsplit(host.url).netloc)`).
 * host:port first (the newest SDK's entry), then the host alone (an older SDK's, the same host on any
 * port, as those SDKs read it). Both name the API host: the key found goes to no other host.
 */
export function netrcMachines(u: URL): string[] {
  return u.port ? [u.host, u.hostname] : [u.host];
}

/**
 * The password of the first of `machines` a netrc text has an entry for (each machine's first entry),
 * else of its `default` entry.
 */
export function netrcPassword(text: string, machines: string | readonly string[]): string | undefined {
  const wanted = typeof machines === 'string' ? [machines] : machines;
  const tokens = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join(' ')
    .split(/\s+/)
    .filter(Boolean);
  let current: string | undefined;
  let fallback: string | undefined;
  const found = new Map<string, string>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === 'machine') current = tokens[++i];
    else if (t === 'default') current = '\u0000default';
    else if (t === 'password') {
      const pw = tokens[++i];
      if (current !== undefined && wanted.includes(current) && !found.has(current)) found.set(current, pw);
      if (current === '\u0000default' && fallback === undefined) fallback = pw;
    } else if (t === 'login' || t === 'account') i++;
    else if (t === 'macdef') break; // macros run to a blank line; nothing we need lies after them in practice
  }
  for (const m of wanted) if (found.has(m)) return found.get(m);
  return fallback;
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
