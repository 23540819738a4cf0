/**
 * Sessions in Redis, for the stack platform. Every request of a signed-in user looks its session up, so
 * the lookup belongs in the fastest shared store; Redis also expires sessions by itself (FerretDB has no
 * TTL indexes), and a deleted session is gone for every replica of every function at once.
 *
 * `session:<token hash>` holds the record and expires with it; `user-sessions:<user id>` is the set of
 * that user's token hashes, so signing a user out everywhere needs no scan.
 */
import type { Redis } from 'ioredis';
import type { SessionRecord } from '../../domain/user';
import { closeRedisClient, openRedisClient, pingRedis } from '../../kv/redis';
import type { Logger } from '../../log';
import type { SessionRepository } from '../ports';

/**
 * Stores the record and adds it to its user's set in one step. The set lives as long as its longest
 * session: `PEXPIRE ... GT` only ever extends it, and a set without expiry gets one.
 */
const CREATE_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[3])
else redis.call('PEXPIRE', KEYS[2], ARGV[3], 'GT') end
`;

/** Deletes every session in the user's set, and the set; ARGV[1] is the session key prefix. */
const DELETE_FOR_USER_SCRIPT = `
for _, hash in ipairs(redis.call('SMEMBERS', KEYS[1])) do redis.call('DEL', ARGV[1] .. hash) end
redis.call('DEL', KEYS[1])
`;

interface SessionCommands {
  sessionCreate(key: string, userKey: string, record: string, hash: string, ttlMs: number): Promise<void>;
  sessionDeleteForUser(userKey: string, sessionPrefix: string): Promise<void>;
}

export class RedisSessionRepository implements SessionRepository {
  private readonly client: Redis & SessionCommands;
  private readonly sessionPrefix: string;
  private readonly userPrefix: string;

  /** `keyPrefix` goes before every key, so deployments and test runs can share one Redis. */
  constructor(url: string, options: { keyPrefix?: string; logger: Logger }) {
    this.sessionPrefix = `${options.keyPrefix ?? ''}session:`;
    this.userPrefix = `${options.keyPrefix ?? ''}user-sessions:`;
    const client = openRedisClient(url, { name: 'integr8s-sessions', logger: options.logger });
    client.defineCommand('sessionCreate', { numberOfKeys: 2, lua: CREATE_SCRIPT });
    client.defineCommand('sessionDeleteForUser', { numberOfKeys: 1, lua: DELETE_FOR_USER_SCRIPT });
    this.client = client as Redis & SessionCommands;
  }

  async create(session: SessionRecord): Promise<void> {
    // The session's own lifetime: `find` still checks `expires_at` against the caller's clock.
    const lifetimeMs = Date.parse(session.expires_at) - Date.parse(session.created_at);
    if (!(lifetimeMs > 0)) return;
    await this.client.sessionCreate(
      this.sessionPrefix + session.token_hash,
      this.userPrefix + session.user_id,
      JSON.stringify(session),
      session.token_hash,
      Math.ceil(lifetimeMs),
    );
  }

  async find(tokenHash: string, now: Date): Promise<SessionRecord | null> {
    const stored = await this.client.get(this.sessionPrefix + tokenHash);
    if (stored === null) return null;
    const session = JSON.parse(stored) as SessionRecord;
    return Date.parse(session.expires_at) > now.getTime() ? session : null;
  }

  async delete(tokenHash: string): Promise<void> {
    // The hash stays in its user's set until the set expires; deleting a missing key there is harmless.
    await this.client.del(this.sessionPrefix + tokenHash);
  }

  async deleteForUser(userId: string): Promise<void> {
    await this.client.sessionDeleteForUser(this.userPrefix + userId, this.sessionPrefix);
  }

  /** Readiness: can sessions be read right now? */
  async ping(): Promise<void> {
    await pingRedis(this.client);
  }

  async close(): Promise<void> {
    await closeRedisClient(this.client);
  }
}
