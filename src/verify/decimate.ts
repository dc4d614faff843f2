/**
 * Keeps at most `max` points of a series of unknown length, evenly spread: when full, every other
 * point goes and the stride doubles. For the small chart per run in the HTML report: memory is `max`
 * points however long the series.
 */
export class Decimator {
  private readonly kept: Array<[number, number]> = [];
  private stride = 1;
  private seen = 0;

  constructor(private readonly max = 200) {}

  add(step: number, value: number): void {
    if (this.seen++ % this.stride !== 0) return;
    this.kept.push([step, value]);
    if (this.kept.length >= this.max) {
      for (let i = 1, j = 2; j < this.kept.length; i++, j += 2) this.kept[i] = this.kept[j];
      this.kept.length = Math.ceil(this.kept.length / 2);
      this.stride *= 2;
    }
  }

  points(): Array<[number, number]> {
    return [...this.kept];
  }
}

/** The run's main metric: a loss if it logged one, else an accuracy, else its first float series by name. */
export function mainMetric(paths: Iterable<string>): string | undefined {
  const all = [...paths].sort();
  return all.find((p) => /(^|\/)(train[_/])?loss$/i.test(p)) ?? all.find((p) => /loss/i.test(p)) ?? all.find((p) => /acc/i.test(p)) ?? all[0];
}
