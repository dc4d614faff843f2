import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addProtocolBOptions, protocolBOptionsFrom } from './cli.ts';

const parse = (args: string[]) => {
  const cmd = addProtocolBOptions(new Command().exitOverride().configureOutput({ writeErr: () => {} }));
  cmd.parse(args, { from: 'user' });
  return protocolBOptionsFrom(cmd.opts());
};

describe('Protocol B flags of npm run emulator:neptune', () => {
  it('defaults: 300 ms status delay, NaN refused, aws, 16 MiB requests, no faults', () => {
    expect(parse([])).toEqual({
      statusDelayMs: 300, unavailableChecks: 0, nanInf: 'refuse', storageProvider: 'aws', signedUrlTtlSeconds: 3600,
      multipartThreshold: 5 * 1024 * 1024, multipartPartSize: 5 * 1024 * 1024, maxRequestBytes: 16 * 1024 * 1024, faults: {},
    });
  });

  it('every fault is a flag', () => {
    const o = parse(['--b-fail-429', '2', '--b-retry-after', '7', '--b-fail-5xx', '1', '--b-5xx-status', '502', '--b-reset', '3',
      '--b-faults-on', 'check', '--b-stuck', '--b-nan-inf', 'accept', '--b-storage', 'gcp', '--b-unavailable-checks', '4']);
    expect(o.faults).toEqual({
      force429: { count: 2, retryAfterSeconds: 7 }, force5xx: { count: 1, status: 502 }, resetConnections: { count: 3 }, only: 'check', stuckUnavailable: true,
    });
    expect(o).toMatchObject({ nanInf: 'accept', storageProvider: 'gcp', unavailableChecks: 4 });
  });

  it('a bad value is a usage error naming the flag', () => {
    expect(() => parse(['--b-fail-429', 'lots'])).toThrow(/--b-fail-429/);
    expect(() => parse(['--b-nan-inf', 'maybe'])).toThrow(/--b-nan-inf/);
  });
});
