// Whether dist/ (built by `npm install` through the `prepare` script) is at least as new as every
// TypeScript source: the launcher runs dist/ then, and the sources through tsx otherwise (a developer
// editing src/); the benchmark warns when what it would measure is the latter.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const built = `${root}dist/cli/index.js`;

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export function distIsCurrent() {
  return existsSync(built) && statSync(built).mtimeMs >= newestSource(`${root}src`);
}
