import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/**
 * Key prefixes for one test run, so runs sharing a Redis do not collide, and a plain client to look at
 * what the code under test wrote. Every key under the run's prefix is deleted afterwards. Call inside a
 * `describe`.
 */
export function useRedisTestKeys(url: string, label: string): { raw(): Redis; freshPrefix(): string } {
  const runPrefix = `test:${label}:${randomUUID()}:`;
  let prefixes = 0;
  let client: Redis | undefined;
  beforeAll(() => {
    client = new Redis(url);
  });
  afterAll(async () => {
    const keys = await client!.keys(`${runPrefix}*`);
    if (keys.length > 0) await client!.del(...keys);
    await client!.quit();
  });
  return {
    raw: () => client!,
    freshPrefix: () => `${runPrefix}${++prefixes}:`,
  };
}
