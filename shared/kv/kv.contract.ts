/** Behaviour every KeyValueStore adapter must show; adapters call this from their own test file. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyValueStore } from './port';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Short enough to keep the suite fast, long enough that the next statement runs before expiry. */
const TTL_MS = 30;
const PAST_TTL_MS = 80;

export function describeKeyValueStoreContract(adapterName: string, make: () => Promise<KeyValueStore>): void {
  describe(`KeyValueStore contract: ${adapterName}`, () => {
    let kv: KeyValueStore;
    beforeEach(async () => {
      kv = await make();
    });
    afterEach(async () => {
      await kv.close();
    });

    it('returns null for a missing key and the value for a set key', async () => {
      expect(await kv.get('missing')).toBeNull();
      expect(await kv.set('idempotency:abc', '{"status":201,"body":"ok"}')).toBe(true);
      expect(await kv.get('idempotency:abc')).toBe('{"status":201,"body":"ok"}');
      expect(await kv.get('IDEMPOTENCY:abc')).toBeNull();
    });

    it('overwrites a value', async () => {
      await kv.set('key', 'one');
      expect(await kv.set('key', 'two')).toBe(true);
      expect(await kv.get('key')).toBe('two');
    });

    it('sets only when absent, if asked', async () => {
      expect(await kv.set('lock', 'first', { onlyIfAbsent: true })).toBe(true);
      expect(await kv.set('lock', 'second', { onlyIfAbsent: true })).toBe(false);
      expect(await kv.get('lock')).toBe('first');
    });

    it('lets exactly one of many racing set-if-absent calls win', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => kv.set('race', `writer-${i}`, { onlyIfAbsent: true })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await kv.get('race')).toBe(`writer-${results.indexOf(true)}`);
    });

    it('forgets a value after its ttl', async () => {
      await kv.set('short', 'lived', { ttlMs: TTL_MS });
      await kv.set('forever', 'kept');
      expect(await kv.get('short')).toBe('lived');
      await sleep(PAST_TTL_MS);
      expect(await kv.get('short')).toBeNull();
      expect(await kv.get('forever')).toBe('kept');
    });

    it('treats an expired key as absent for set-if-absent', async () => {
      await kv.set('marker', 'old', { ttlMs: TTL_MS });
      await sleep(PAST_TTL_MS);
      expect(await kv.set('marker', 'new', { onlyIfAbsent: true })).toBe(true);
      expect(await kv.get('marker')).toBe('new');
    });

    it('clears the expiry when a key is set again without a ttl', async () => {
      await kv.set('key', 'temporary', { ttlMs: TTL_MS });
      await kv.set('key', 'permanent');
      await sleep(PAST_TTL_MS);
      expect(await kv.get('key')).toBe('permanent');
    });

    it('increments from zero, by one or by a given amount', async () => {
      expect(await kv.increment('counter')).toBe(1);
      expect(await kv.increment('counter')).toBe(2);
      expect(await kv.increment('counter', { by: 5 })).toBe(7);
      expect(await kv.increment('counter', { by: -3 })).toBe(4);
      expect(await kv.get('counter')).toBe('4');
    });

    it('refuses to increment by a fraction', async () => {
      await expect(kv.increment('counter', { by: 1.5 })).rejects.toThrow();
    });

    it('increments a value that was set as a number', async () => {
      await kv.set('counter', '41');
      expect(await kv.increment('counter')).toBe(42);
    });

    it('increments atomically under concurrency', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => kv.increment('hits')));
      expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await kv.get('hits')).toBe('50');
    });

    it('applies the ttl of an increment when the counter is created, not on later increments', async () => {
      expect(await kv.increment('attempts', { ttlMs: TTL_MS })).toBe(1);
      expect(await kv.increment('attempts', { ttlMs: 60_000 })).toBe(2);
      await sleep(PAST_TTL_MS);
      expect(await kv.get('attempts')).toBeNull();
      expect(await kv.increment('attempts')).toBe(1);
    });

    it('deletes a key, and deleting a missing key is fine', async () => {
      await kv.set('key', 'value');
      await kv.delete('key');
      await kv.delete('key');
      expect(await kv.get('key')).toBeNull();
      expect(await kv.set('key', 'again', { onlyIfAbsent: true })).toBe(true);
    });
  });
}
