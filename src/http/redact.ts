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

/**
 * Query parameters that grant access: S3's `X-Amz-Signature`/`-Credential`/`-Security-Token` (and the
 * older `Signature`, `AWSAccessKeyId`), GCS's `X-Goog-Signature`/`-Credential`, a resumable session's
 * `upload_id`, Azure's `sig`, a bridge's `token`.
 */
const ACCESS_PARAM = /sig|credential|token|key|upload_?id|policy/i;

/**
 * What a URL carries that grants access: those query values and its userinfo. A storage error may echo
 * them — S3's SignatureDoesNotMatch answer lists the signature it was given (`SignatureProvided`) — and
 * the error becomes a report line. Other parameters (an attribute, a run id) stay: they explain it.
 */
export function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const values = [...u.searchParams].filter(([name]) => ACCESS_PARAM.test(name)).map(([, v]) => v);
    return [...values, decodeURIComponent(u.username), decodeURIComponent(u.password)].filter((v) => v.length >= 6);
  } catch {
    return [];
  }
}
