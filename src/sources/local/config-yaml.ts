/**
 * `config.yaml` of a run folder, read with a real YAML reader (the `yaml` package): PyYAML and Go's
 * yaml.v3 write it, and user configs carry anchors and aliases (`&A` / `*A`), merge keys, block and
 * flow collections. Integers beyond 2^53 keep every digit as `bigint` (as the JSON reader does,
 * extended-json.ts); the ones that fit stay numbers. A text that is not YAML throws, for the caller to
 * report; what was read with a doubt (a Python-only tag such as `!!python/tuple`, read as plain YAML)
 * comes back as warnings, never on the terminal.
 */
import { parseDocument } from 'yaml';

export function parseConfigYaml(text: string): { value: unknown; warnings: string[] } {
  const doc = parseDocument(text, { intAsBigInt: true, merge: true, logLevel: 'silent' });
  if (doc.errors.length > 0) throw doc.errors[0];
  const value = doc.toJS({
    // An alias bomb is not a config: refuse it rather than expand it.
    maxAliasCount: 10_000,
    reviver: (_key, v) => (typeof v === 'bigint' && Number.isSafeInteger(Number(v)) ? Number(v) : v),
  }) as unknown;
  return { value, warnings: doc.warnings.map((w) => w.message.split('\n')[0]) };
}
