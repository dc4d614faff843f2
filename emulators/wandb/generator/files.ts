/** GenFile builders: exact size and base64 MD5 for in-memory and streamed content. */
import { createHash } from 'node:crypto';
import type { GenFile } from './types.ts';

const MIME: Record<string, string> = {
  '.json': 'application/json', '.log': 'text/plain', '.txt': 'text/plain', '.yaml': 'text/yaml',
  '.py': 'text/x-python', '.png': 'image/png', '.ipynb': 'application/json', '.jsonl': 'application/json',
};

function mimeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot >= 0 && MIME[name.slice(dot)]) || 'application/octet-stream';
}

/** A file whose bytes are known up front (small files). */
export function bufferFile(name: string, data: Buffer | string, updatedAt?: string): GenFile {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return {
    name,
    sizeBytes: buf.length,
    md5: createHash('md5').update(buf).digest('base64'),
    content: () => buf,
    mimetype: mimeOf(name),
    updatedAt,
  };
}

/**
 * A file produced chunk by chunk; size and MD5 are computed by one streaming pass the first time
 * they are read, so listing a run never holds big files in memory.
 */
export function streamFile(name: string, chunks: () => Iterable<Buffer>, updatedAt?: string): GenFile {
  let size: number | undefined;
  let md5: string | undefined;
  const measure = (): void => {
    const h = createHash('md5');
    let n = 0;
    for (const c of chunks()) {
      h.update(c);
      n += c.length;
    }
    size = n;
    md5 = h.digest('base64');
  };
  return {
    name,
    get sizeBytes() {
      if (size === undefined) measure();
      return size as number;
    },
    get md5() {
      if (md5 === undefined) measure();
      return md5 as string;
    },
    content: chunks,
    mimetype: mimeOf(name),
    updatedAt,
  };
}

/** Lines of text as a streamed file (console logs), one Buffer per ~64 KiB. */
export function linesFile(name: string, lines: () => Iterable<string>, updatedAt?: string): GenFile {
  return streamFile(name, function* () {
    let pending = '';
    for (const l of lines()) {
      pending += l + '\n';
      if (pending.length > 65536) {
        yield Buffer.from(pending, 'utf8');
        pending = '';
      }
    }
    if (pending) yield Buffer.from(pending, 'utf8');
  }, updatedAt);
}
