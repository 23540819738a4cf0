import { describe, expect, it } from 'vitest';
import { useRedisTestKeys } from '../../../test/support/redis';
import { createLogger } from '../../log';
import { describeSessionRepositoryContract } from '../contracts';
import { aSession } from '../contracts/fixtures';
import { RedisSessionRepository } from './sessions';

const url = process.env.INTEGR8S_REDIS_URL;
if (!url) console.log('INTEGR8S_REDIS_URL is not set: skipping the Redis session tests');

const silent = createLogger('silent');

describe.skipIf(!url)('RedisSessionRepository', () => {
  const { raw, freshPrefix } = useRedisTestKeys(url!, 'sessions');
  const open = (keyPrefix = freshPrefix()) => new RedisSessionRepository(url!, { keyPrefix, logger: silent });

  describeSessionRepositoryContract('redis', async () => {
    const sessions = open();
    return { sessions, close: () => sessions.close() };
  });

  it('lets Redis expire a session at the end of its lifetime; its user set lives as long as the longest', async () => {
    const prefix = freshPrefix();
    const sessions = open(prefix);
    const now = new Date();
    const inMs = (ms: number) => new Date(now.getTime() + ms).toISOString();
    try {
      await sessions.create(aSession({ token_hash: 'short', created_at: inMs(0), expires_at: inMs(300) }));
      await sessions.create(aSession({ token_hash: 'long', created_at: inMs(0), expires_at: inMs(60_000) }));
      expect(await raw().pttl(`${prefix}session:short`)).toBeGreaterThan(0);
      expect(await raw().pttl(`${prefix}user-sessions:user-1`)).toBeGreaterThan(30_000);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await raw().exists(`${prefix}session:short`)).toBe(0);
      expect(await sessions.find('long', new Date())).not.toBeNull();
      expect((await raw().smembers(`${prefix}user-sessions:user-1`)).sort()).toEqual(['long', 'short']);
    } finally {
      await sessions.close();
    }
  });

  it('stores nothing for a session that is over before it starts', async () => {
    const prefix = freshPrefix();
    const sessions = open(prefix);
    try {
      await sessions.create(aSession({ created_at: aSession().expires_at }));
      expect(await raw().keys(`${prefix}*`)).toEqual([]);
    } finally {
      await sessions.close();
    }
  });

  it('answers readiness while Redis is reachable and fails it once closed', async () => {
    const sessions = open();
    await expect(sessions.ping()).resolves.toBeUndefined();
    await sessions.close();
    await expect(sessions.ping()).rejects.toThrow();
  });
});
