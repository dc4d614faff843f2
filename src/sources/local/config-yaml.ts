/**
 * `config.yaml` of a run folder, read with a real YAML reader (the `yaml` package): PyYAML and Go's
 * yaml.v3 write it, and user configs carry anchors and aliases (`&A` / `*A`), merge keys, block and
 * flow collections. Integers beyond 2^53 keep every digit as `bigint` (as the JSON reader does,
 * extended-json.ts); the ones that fit stay numbers. A text that is not YAML is an error the caller reports.
 */
import { parse } from 'yaml';

export function parseConfigYaml(text: string): unknown {
  return parse(text, (_key, v) => (typeof v === 'bigint' && Number.isSafeInteger(Number(v)) ? Number(v) : v), {
    intAsBigInt: true,
    merge: true,
    // An alias bomb is not a config: refuse it rather than expand it.
    maxAliasCount: 10_000,
  });
}
