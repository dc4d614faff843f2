import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { TOOL_VERSION } from '../version.ts';
import { renderHtmlReport, type HtmlReportInput } from './render.ts';

/** Writes the HTML report (through a temporary file, so a reader never sees half a page); returns its path. */
export function writeHtmlReport(file: string, input: Omit<HtmlReportInput, 'generatedAt' | 'toolVersion'>): string {
  const path = resolve(file);
  const html = renderHtmlReport({ ...input, generatedAt: new Date().toISOString(), toolVersion: TOOL_VERSION });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, path);
  } catch (e) {
    throw new ConfigError([`--html ${file}: cannot write the report (${(e as Error).message})`]);
  }
  return path;
}
