import { describe, expect, it } from 'vitest';
import { useRedisTestKeys } from '../../test/support/redis';
import { createLogger } from '../log';
import { describeKeyValueStoreContract } from './kv.contract';
import { RedisKeyValueStore } from './redis';

const url = process.env.INTEGR8S_REDIS_URL;
if (!url) console.log('INTEGR8S_REDIS_URL is not set: skipping the Redis key-value store tests');

const silent = createLogger('silent');
/** A port nothing listens on: connections are refused at once. */
const DEAD_URL = 'redis://127.0.0.1:1';

describe.skipIf(!url)('RedisKeyValueStore', () => {
  const { raw, freshPrefix } = useRedisTestKeys(url!, 'kv');

  describeKeyValueStoreContract(
    'redis',
    async () => new RedisKeyValueStore(url!, { keyPrefix: freshPrefix(), logger: silent }),
  );

  it('writes every key under its prefix and does not see other prefixes', async () => {
    const prefixA = freshPrefix();
    const a = new RedisKeyValueStore(url!, { keyPrefix: prefixA, logger: silent });
    const b = new RedisKeyValueStore(url!, { keyPrefix: freshPrefix(), logger: silent });
    try {
      await a.set('shared-name', 'from a');
      await a.increment('counter', { by: 3 });
      expect(await b.get('shared-name')).toBeNull();
      expect(await b.set('shared-name', 'from b', { onlyIfAbsent: true })).toBe(true);
      expect(await a.get('shared-name')).toBe('from a');
      expect((await raw().keys(`${prefixA}*`)).sort()).toEqual([
        `${prefixA}counter`,
        `${prefixA}shared-name`,
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('stores expiries in Redis: set without a ttl removes one, a later increment keeps it', async () => {
    const prefix = freshPrefix();
    const kv = new RedisKeyValueStore(url!, { keyPrefix: prefix, logger: silent });
    try {
      await kv.set('k', 'v', { ttlMs: 60_000 });
      expect(await raw().pttl(`${prefix}k`)).toBeGreaterThan(50_000);
      await kv.set('k', 'v2');
      expect(await raw().pttl(`${prefix}k`)).toBe(-1);

      await kv.increment('n', { ttlMs: 60_000 });
      await raw().pexpire(`${prefix}n`, 30_000);
      await kv.increment('n', { ttlMs: 60_000 });
      const ttl = await raw().pttl(`${prefix}n`);
      expect(ttl).toBeGreaterThan(20_000);
      expect(ttl).toBeLessThanOrEqual(30_000);

      await kv.increment('forever');
      expect(await raw().pttl(`${prefix}forever`)).toBe(-1);
    } finally {
      await kv.close();
    }
  });

  it('treats a ttl of zero or less as already expired', async () => {
    const kv = new RedisKeyValueStore(url!, { keyPrefix: freshPrefix(), logger: silent });
    try {
      await kv.set('k', 'old');
      expect(await kv.set('k', 'gone', { ttlMs: 0 })).toBe(true);
      expect(await kv.get('k')).toBeNull();
      expect(await kv.set('k', 'x', { ttlMs: -5, onlyIfAbsent: true })).toBe(true);
      expect(await kv.get('k')).toBeNull();
      await kv.set('live', 'yes');
      expect(await kv.set('live', 'x', { ttlMs: 0, onlyIfAbsent: true })).toBe(false);
      expect(await kv.get('live')).toBe('yes');
      expect(await kv.increment('n', { ttlMs: 0 })).toBe(1);
      expect(await kv.get('n')).toBeNull();
      // A fraction of a millisecond still stores the value.
      expect(await kv.set('brief', 'v', { ttlMs: 0.5 })).toBe(true);
    } finally {
      await kv.close();
    }
  });

  it('refuses to increment a value that is not an integer', async () => {
    const kv = new RedisKeyValueStore(url!, { keyPrefix: freshPrefix(), logger: silent });
    try {
      await kv.set('text', 'hello');
      await expect(kv.increment('text')).rejects.toThrow(/not an integer/);
      expect(await kv.get('text')).toBe('hello');
    } finally {
      await kv.close();
    }
  });

  it('keeps incrementing after Redis forgot the script', async () => {
    const kv = new RedisKeyValueStore(url!, { keyPrefix: freshPrefix(), logger: silent });
    try {
      expect(await kv.increment('n')).toBe(1);
      await raw().script('FLUSH');
      expect(await kv.increment('n')).toBe(2);
    } finally {
      await kv.close();
    }
  });

  it('is ready when Redis answers', async () => {
    const kv = new RedisKeyValueStore(url!, { keyPrefix: freshPrefix(), logger: silent });
    try {
      // Right after construction, before the connection is up: waits for it rather than failing.
      await expect(kv.ready()).resolves.toBeUndefined();
    } finally {
      await kv.close();
    }
  });

  it('fails readiness and every operation quickly when Redis is unreachable', async () => {
    const kv = new RedisKeyValueStore(DEAD_URL, { logger: silent });
    try {
      const started = Date.now();
      await expect(kv.ready()).rejects.toThrow();
      await expect(kv.get('k')).rejects.toThrow();
      await expect(kv.set('k', 'v')).rejects.toThrow();
      await expect(kv.increment('k')).rejects.toThrow();
      await expect(kv.delete('k')).rejects.toThrow();
      // Between reconnect attempts readiness fails without waiting.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const whileReconnecting = Date.now();
      await expect(kv.ready()).rejects.toThrow(/not connected/);
      expect(Date.now() - whileReconnecting).toBeLessThan(50);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await kv.close();
    }
  });

  it('closes quietly while Redis is unreachable', async () => {
    const kv = new RedisKeyValueStore(DEAD_URL, { logger: silent });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(kv.close()).resolves.toBeUndefined();
    const started = Date.now();
    await expect(kv.get('k')).rejects.toThrow(/closed/);
    expect(Date.now() - started).toBeLessThan(50);
  });
});
