import { describe, expect, it } from 'vitest';
import { HostLimiter } from './host-limiter.ts';

describe('HostLimiter', () => {
  it('never lets more than `concurrency` requests run at once', async () => {
    const limiter = new HostLimiter({ concurrency: 3 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const release = await limiter.acquire();
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        release();
      }),
    );
    expect(peak).toBe(3);
  });

  it('halves concurrency on 429 and pauses new requests until the wait is over', async () => {
    const limiter = new HostLimiter({ concurrency: 4 });
    limiter.rateLimited(150);
    expect(limiter.limit).toBe(2);
    const started = Date.now();
    const release = await limiter.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    release();
    limiter.succeeded();
    expect(limiter.limit).toBe(3);
  });

  it('rejects a waiting acquire when its signal aborts', async () => {
    const limiter = new HostLimiter({ concurrency: 1 });
    const release = await limiter.acquire();
    const ac = new AbortController();
    const waiting = limiter.acquire(ac.signal);
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    release();
  });
});
