import { describe, expect, it } from 'vitest';
import type { Logger } from '../../core/logger.ts';
import { PROTOCOL_A_CAPABILITIES, protocolBCapabilities } from '../../mapping/capabilities.ts';
import { plannedProtocol } from './planned-protocol.ts';

function logger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} } as Logger & { warnings: string[] };
}

describe('the protocol a dry run plans for', () => {
  it('takes --protocol a or b as given, asking nothing', async () => {
    const log = logger();
    const b = plannedProtocol({ protocol: 'b', nan: 'send', env: {}, log });
    expect(await b.capabilities('demo/p')).toEqual(protocolBCapabilities({ nonFinite: 'send' }));
    expect(await plannedProtocol({ protocol: 'a', env: {}, log }).capabilities('demo/p')).toEqual(PROTOCOL_A_CAPABILITIES);
    expect(b.requests()).toBe(0);
    expect(log.warnings).toEqual([]);
  });

  it('auto without a token to ask with: Protocol A, and a warning that says how to plan for 3.x', async () => {
    const log = logger();
    const plan = plannedProtocol({ protocol: 'auto', env: {}, log });
    expect(await plan.capabilities('demo/p')).toEqual(PROTOCOL_A_CAPABILITIES);
    expect(log.warnings).toEqual(['dry run: planned for Protocol A (no NEPTUNE_API_TOKEN to ask the server which protocol it speaks); pass --protocol b to plan for a Neptune 3.x server']);
    expect(plan.requests()).toBe(0);
  });
});
