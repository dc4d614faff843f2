/**
 * W&B keeps each top-level config entry wrapped as `{value, desc}` (or `{value}`), in the API's
 * `config` field and in `config.yaml` alike; `config.yaml` adds a `wandb_version` marker. Both sources
 * unwrap one level, like the SDK's `_load_from_attrs`; an entry that is not such a wrapper stays as it is.
 */
export function unwrapConfig(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'wandb_version') continue;
    const wrapped =
      v !== null && typeof v === 'object' && !Array.isArray(v) && 'value' in v && Object.keys(v).every((x) => x === 'value' || x === 'desc');
    out[k] = wrapped ? (v as { value: unknown }).value : v;
  }
  return out;
}
