/**
 * URLs in errors and logs lose their query string and userinfo: signed storage URLs carry their
 * signature there, and a key must never reach a log line.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '<unparseable url>';
  }
}

/** Removes anything that looks like the given secrets from a text (server error bodies may echo input). */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join('***');
  return out;
}
