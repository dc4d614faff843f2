import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { encodeNeptuneToken, parseNeptuneToken, resolveNeptuneSettings } from './token.ts';

const SECRET = 'a1b2c3d4-e5f6-4711-8899-aabbccddeeff';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('parseNeptuneToken', () => {
  it('uses api_url when present, else api_address, on any host', () => {
    const t = encodeNeptuneToken({ api_address: 'https://neptune.corp.example:8443/', api_key: SECRET });
    expect(parseNeptuneToken(t)).toMatchObject({ apiBase: 'https://neptune.corp.example:8443', apiKey: SECRET });
    const u = encodeNeptuneToken({ api_address: 'https://ui.example', api_url: 'http://127.0.0.1:9000', api_key: SECRET });
    expect(parseNeptuneToken(`  ${u}\n`).apiBase).toBe('http://127.0.0.1:9000');
  });

  it('rejects bad tokens without echoing them', () => {
    const cases = [
      '',
      'not base64 !!',
      Buffer.from('plain text').toString('base64'),
      Buffer.from(JSON.stringify(['x'])).toString('base64'),
      encodeNeptuneToken({ api_address: '', api_key: SECRET }),
      Buffer.from(JSON.stringify({ api_address: 'https://x.example' , leaked: SECRET })).toString('base64'),
      encodeNeptuneToken({ api_address: 'ftp://x.example', api_key: SECRET }),
    ];
    for (const c of cases) {
      const msg = messageOf(() => parseNeptuneToken(c));
      expect(msg).toMatch(/invalid Neptune API token/);
      if (c) expect(msg).not.toContain(c);
      expect(msg).not.toContain(SECRET);
    }
  });
});

describe('resolveNeptuneSettings', () => {
  const token = encodeNeptuneToken({ api_address: 'http://127.0.0.1:1', api_key: SECRET });

  it('reads NEPTUNE_API_TOKEN and NEPTUNE_PROJECT, options win', () => {
    const s = resolveNeptuneSettings({ NEPTUNE_API_TOKEN: token, NEPTUNE_PROJECT: 'ws/proj' });
    expect(s.project).toEqual({ workspace: 'ws', name: 'proj' });
    expect(resolveNeptuneSettings({ NEPTUNE_API_TOKEN: 'junk' }, { token, project: 'a/b' }).project).toEqual({ workspace: 'a', name: 'b' });
  });

  it('lists every problem at once', () => {
    const e = (() => {
      try {
        resolveNeptuneSettings({ NEPTUNE_PROJECT: 'no-slash' });
      } catch (err) {
        return err as ConfigError;
      }
    })();
    expect(e?.problems).toHaveLength(2);
  });
});
