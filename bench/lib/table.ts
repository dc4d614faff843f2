/** A two-column table of figures on stdout. */
export type Row = [label: string, value: string | number];

export function printTable(title: string, rows: readonly Row[]): void {
  const show = (v: string | number) => (typeof v === 'number' ? v.toLocaleString('en', { maximumFractionDigits: 2 }) : v);
  const w = Math.max(...rows.map(([l]) => l.length));
  console.log(`\n${title}`);
  for (const [l, v] of rows) console.log(`  ${l.padEnd(w)}  ${show(v)}`);
}

export const mb = (bytes: number): number => Math.round(bytes / 1048576);
