import { describe, expect, it } from 'vitest';
import { formatRequests } from './requests-line.ts';

describe('the requests line', () => {
  it('Protocol A: executeOperations batches', () => {
    expect(formatRequests({ source: { apiRequests: 4, storageRequests: 55 }, target: { requests: 46, batches: 4, bytes: 27_136 } }, false))
      .toBe('requests: W&B 59 (API 4, storage 55); Neptune 46 (4 batches, 26.5 KiB sent)');
  });

  it('Protocol B: ingest requests and status checks, not "0 batches"', () => {
    const target = { requests: 123, bytes: 33_178, ingestRequests: 35, statusChecks: 70, detailChecks: 1, failedAttempts: 2 };
    expect(formatRequests({ source: { apiRequests: 5, storageRequests: 55 }, target }, false))
      .toBe('requests: W&B 60 (API 5, storage 55); Neptune 123 (35 ingest requests, 70 status checks, 32.4 KiB sent, 2 failed attempts retried)');
  });
});
