import { createReadStream } from 'node:fs';

/**
 * Splits a file into lines without loading it: `\n` ends a line, a `\r` before it is dropped, and a
 * last line without a final newline still counts. Decoding is streaming UTF-8 (a multi-byte character
 * split across chunks stays whole).
 */
export async function* fileLines(path: string, signal?: AbortSignal): AsyncGenerator<string> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024, signal });
  let rest = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    let text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
      yield text.slice(start, end);
      start = nl + 1;
    }
    rest = text.slice(start);
    text = '';
  }
  if (rest.length > 0) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}
