/** Line-by-line readers for the JSON files around a run (legacy JSONL, summary, metadata). */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseExtendedJson } from '../extended-json.ts';
import { isPlainObject } from './values.ts';

/** Yields each non-empty line parsed as a JSON object (`onLine(lineNo)` just before); `onInvalid(lineNo)` for the others. */
export async function* readJsonLines(
  path: string,
  onInvalid?: (lineNo: number) => void,
  signal?: AbortSignal,
  onLine?: (lineNo: number) => void,
): AsyncGenerator<Record<string, unknown>> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let no = 0;
  try {
    for await (const line of rl) {
      signal?.throwIfAborted();
      no++;
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = parseExtendedJson(line);
      } catch {
        v = undefined;
      }
      if (isPlainObject(v)) {
        onLine?.(no);
        yield v;
      } else onInvalid?.(no);
    }
  } finally {
    rl.close();
  }
}

/** Reads a JSON object file; undefined when missing or not an object. */
export async function readJsonObject(path: string): Promise<Record<string, unknown> | undefined> {
  return (await readJsonObjectFile(path)).value;
}

/**
 * Reads a JSON object file: its object, or, for a file that is there and is not one (cut mid-write,
 * overwritten), why not, so that what the run loses by it can be said. A missing file is neither.
 */
export async function readJsonObjectFile(path: string): Promise<{ value?: Record<string, unknown>; problem?: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? {} : { problem: `cannot be read (${code ?? String(error)})` };
  }
  let v: unknown;
  try {
    v = parseExtendedJson(text);
  } catch (error) {
    return { problem: `is not valid JSON (${(error instanceof Error ? error.message : String(error)).split('\n')[0]})` };
  }
  return isPlainObject(v) ? { value: v } : { problem: 'holds no JSON object' };
}

export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Line numbers for a message: "line 4", "lines 2, 3", "lines 2, 3, 5, … (12 in all)". */
export function describeLines(lines: readonly number[], shown = 10): string {
  if (lines.length === 1) return `line ${lines[0]}`;
  const head = lines.slice(0, shown).join(', ');
  return lines.length > shown ? `lines ${head}, … (${lines.length} in all)` : `lines ${head}`;
}
