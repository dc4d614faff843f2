import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { netrcPassword, resolveWandbSettings } from './settings.ts';

const KEY = 'k'.repeat(40);

describe('resolveWandbSettings', () => {
  it('takes WANDB_API_KEY, WANDB_BASE_URL and WANDB_ENTITY', () => {
    const s = resolveWandbSettings({ WANDB_API_KEY: KEY, WANDB_BASE_URL: 'http://127.0.0.1:9/', WANDB_ENTITY: 'acme' }, { homeDir: '/nonexistent' });
    expect(s).toMatchObject({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9', entity: 'acme', keySource: 'WANDB_API_KEY', appUrl: 'http://127.0.0.1:9' });
  });

  it('defaults to api.wandb.ai and leaves the entity to the viewer query', () => {
    const s = resolveWandbSettings({ WANDB_API_KEY: KEY }, { homeDir: '/nonexistent' });
    expect(s.baseUrl).toBe('https://api.wandb.ai');
    expect(s.appUrl).toBe('https://wandb.ai');
    expect(s.entity).toBeUndefined();
  });

  it('falls back to the netrc password of the API host (with port)', () => {
    const home = mkdtempSync(join(tmpdir(), 'w2n-netrc-'));
    writeFileSync(join(home, '.netrc'), `machine api.wandb.ai\n  login user\n  password wrongkey\nmachine 127.0.0.1:8080 login user password ${KEY}\n`);
    const s = resolveWandbSettings({ WANDB_BASE_URL: 'http://127.0.0.1:8080' }, { homeDir: home });
    expect(s.apiKey).toBe(KEY);
    expect(s.keySource).toBe('netrc');
  });

  it('reads the netrc an older wandb SDK wrote: the host without its port (wandb ≤ 0.19.6 apikey.py write_netrc)', () => {
    const home = mkdtempSync(join(tmpdir(), 'w2n-netrc-'));
    // As `wandb login --host http://127.0.0.1:8080` wrote it before 0.19.7, after an entry for another host.
    writeFileSync(join(home, '.netrc'), `machine api.wandb.ai\n  login user\n  password wrongkey\nmachine 127.0.0.1\n  login user\n  password ${KEY}\n`);
    const s = resolveWandbSettings({ WANDB_BASE_URL: 'http://127.0.0.1:8080' }, { homeDir: home });
    expect(s.apiKey).toBe(KEY);
    expect(s.keySource).toBe('netrc');
  });

  it('an entry with the port (wandb ≥ 0.19.7) wins over one without it; an entry for another port or host is never taken', () => {
    const home = mkdtempSync(join(tmpdir(), 'w2n-netrc-'));
    const other = 'o'.repeat(40);
    writeFileSync(join(home, '.netrc'), `machine 127.0.0.1 login user password ${other}\nmachine 127.0.0.1:8080 login user password ${KEY}\n`);
    expect(resolveWandbSettings({ WANDB_BASE_URL: 'http://127.0.0.1:8080' }, { homeDir: home }).apiKey).toBe(KEY);
    writeFileSync(join(home, '.netrc'), `machine 127.0.0.1:9090 login user password ${other}\nmachine 127.0.0.2 login user password ${other}\n`);
    expect(() => resolveWandbSettings({ WANDB_BASE_URL: 'http://127.0.0.1:8080' }, { homeDir: home })).toThrow(ConfigError);
    // No port in the URL: only the host's own entry.
    writeFileSync(join(home, '.netrc'), `machine wandb.example.com:8443 login user password ${other}\nmachine wandb.example.com login user password ${KEY}\n`);
    expect(resolveWandbSettings({ WANDB_BASE_URL: 'https://wandb.example.com' }, { homeDir: home }).apiKey).toBe(KEY);
  });

  it('honours $NETRC', () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-netrc-'));
    const file = join(dir, 'custom');
    writeFileSync(file, `machine api.wandb.ai login user password ${KEY}`);
    expect(resolveWandbSettings({ NETRC: file }, { homeDir: '/nonexistent' }).apiKey).toBe(KEY);
  });

  it('an explicit option wins over the environment', () => {
    expect(resolveWandbSettings({ WANDB_API_KEY: 'env-key-xxxxxxxx' }, { apiKey: KEY, homeDir: '/nonexistent' }).apiKey).toBe(KEY);
  });

  it('a missing key is a ConfigError naming what to set', () => {
    let err: unknown;
    try {
      resolveWandbSettings({ WANDB_BASE_URL: 'https://api.wandb.ai' }, { homeDir: '/nonexistent' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/WANDB_API_KEY/);
    expect((err as ConfigError).message).toMatch(/machine api\.wandb\.ai/);
  });

  it('parses netrc default entries and one-line forms', () => {
    expect(netrcPassword('default login x password dflt', 'h')).toBe('dflt');
    expect(netrcPassword('machine h login x password p1 machine g password p2', 'g')).toBe('p2');
    expect(netrcPassword('# comment\nmachine h\n\tpassword p', 'h')).toBe('p');
    expect(netrcPassword('machine h login x', 'h')).toBeUndefined();
  });
});
