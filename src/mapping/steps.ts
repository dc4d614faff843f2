import type { TargetCapabilities } from './capabilities.ts';

/**
 * A step as Protocol B stores it: `whole` + `micro` (millionths), truncated as neptune-scale does
 * (neptune-api.md §3.4, §3.9: 302.1234567 → {302, 123456}).
 */
export function decomposeStep(step: number): { whole: number; micro: number } {
  const whole = Math.floor(step);
  return { whole, micro: microOf(step, whole) };
}

/** `decomposeStep`'s micro of `step` above its whole part (`Math.floor(step)`), without an object (the encoder's hot path). */
export function microOf(step: number, whole: number): number {
  // Fraction × 1e6 rounded to 6 decimals, then truncated: 302.1234567 → 123456, 300.25 → 250000.
  const micro = Math.trunc(Math.round((step - whole) * 1e12) / 1e6);
  return micro >= 1_000_000 ? 999_999 : micro;
}

/**
 * The step a target holds for a W&B step (mapping.md, "steps"): Protocol A keeps the double as is;
 * Protocol B keeps whole microsteps, so W&B's 0.5175197725 (a system-metric step) is held as 0.517519.
 * Resume compares a source step with what the target holds through this rule, and two W&B steps that
 * fall on the same microstep are one step for the target (the later point is reported, not written).
 */
export function heldStep(step: number, capabilities: Pick<TargetCapabilities, 'stepResolution'>): number {
  if (capabilities.stepResolution !== 'micro' || Number.isInteger(step) || !Number.isFinite(step)) return step;
  const { whole, micro } = decomposeStep(step);
  return whole + micro / 1e6;
}
