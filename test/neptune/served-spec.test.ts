import { describe, expect, it } from 'vitest';
import { sharedPath } from '../support/shared.ts';
import type { RecordedRequest } from './proxy.ts';
import { checkRequest, loadSpecSet } from './served-spec.ts';

/** The conformance checker itself can fail: each kind of problem it claims to find, it finds. */
const specs = loadSpecSet(sharedPath('reference/neptune-served-swagger/2023'), '2023');

function req(method: string, pathAndQuery: string, body?: unknown, headers: Record<string, string> = {}): RecordedRequest {
  const u = new URL(pathAndQuery, 'http://x');
  return { method, path: u.pathname, query: u.searchParams, headers, body: Buffer.from(body === undefined ? '' : JSON.stringify(body)) };
}

const WS = '0b2c0d3e-1f20-4a5b-8c6d-7e8f9a0b1c2d';

describe('served-spec checker', () => {
  it('accepts a conforming project creation and executeOperations', () => {
    expect(checkRequest(specs, req('POST', '/api/backend/v1/projects', { name: 'p', organizationId: WS, visibility: 'priv' }))).toEqual([]);
    const ops = [{ path: 'a', logFloats: { entries: [{ value: 1, step: 0, timestampMilliseconds: 1 }] } }, { path: 'b', assignInt: { value: 3 } }];
    expect(checkRequest(specs, req('POST', '/api/leaderboard/v1/attributes/operations?experimentId=x', ops))).toEqual([]);
  });

  it('finds a missing required body property, a bad uuid, an unknown property, a bad enum', () => {
    expect(checkRequest(specs, req('POST', '/api/backend/v1/projects', { name: 'p' })).join()).toMatch(/organizationId is required/);
    expect(checkRequest(specs, req('POST', '/api/backend/v1/projects', { name: 'p', organizationId: 'demo' })).join()).toMatch(/must be a uuid/);
    expect(checkRequest(specs, req('POST', '/api/backend/v1/projects', { name: 'p', organizationId: WS, colour: 1 })).join()).toMatch(/colour is not a property/);
    expect(checkRequest(specs, req('POST', '/api/backend/v1/projects', { name: 'p', organizationId: WS, visibility: 'secret' })).join()).toMatch(/must be one of/);
  });

  it('finds entries the models refuse: a timestamp that is not an integer, an int beyond int32', () => {
    const bad = [{ path: 'a', logFloats: { entries: [{ value: 1, step: 0, timestampMilliseconds: 1.5 }] } }, { path: 'b', assignInt: { value: 2 ** 31 } }];
    const problems = checkRequest(specs, req('POST', '/api/leaderboard/v1/attributes/operations?experimentId=x', bad)).join('\n');
    expect(problems).toMatch(/timestampMilliseconds must be an integer/);
    expect(problems).toMatch(/value must be an int32/);
  });

  it('finds a missing required query parameter or header, a mistyped query value, an unknown operation', () => {
    expect(checkRequest(specs, req('POST', '/api/leaderboard/v1/attributes/storage/fileset/upload/part?experimentIdentifier=x&attribute=files&uploadId=u&uploadPartIdx=0')).join()).toMatch(/query subPath is required/);
    expect(checkRequest(specs, req('POST', '/api/leaderboard/v1/attributes/storage/fileset/upload/part?experimentIdentifier=x&attribute=files&uploadId=u&uploadPartIdx=one&subPath=a')).join()).toMatch(/uploadPartIdx must be an integer/);
    expect(checkRequest(specs, req('GET', '/api/backend/v1/clients/config')).join()).toMatch(/header X-Neptune-Api-Token is required/);
    const run = { projectIdentifier: 'p', type: 'run' };
    expect(checkRequest(specs, req('POST', '/api/leaderboard/v1/experiments', run, { 'x-neptune-legacyclient': 'maybe' })).join()).toMatch(/header X-Neptune-LegacyClient must be a boolean/);
    expect(checkRequest(specs, req('GET', '/api/backend/v1/nothing-here')).join()).toMatch(/no such operation/);
  });
});

