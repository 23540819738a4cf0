/**
 * Key-value store in Redis: idempotency records, rate-limit counters, login lockouts and processed-event
 * markers shared by every replica of every function. Behaves like the SQLite store (see kv.contract.ts).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { createLogger, type Logger } from '../log';
import type { KeyValueStore } from './port';

/**
 * Connection settings shared by every Redis client of the platform. The callers are HTTP handlers and event
 * consumers: while Redis is unreachable they must get an error within seconds, never hang.
 *
 * - `enableOfflineQueue: true` lets a command issued before the first connection is up (right after start)
 *   or during a reconnect of a few milliseconds wait for the connection instead of failing at once.
 * - `maxRetriesPerRequest: 0` bounds that wait: every failed connection attempt fails all queued commands,
 *   and a connection that drops fails the commands in flight instead of silently sending them again.
 * - `autoResendUnfulfilledCommands: false`, for the same reason: a command whose reply was lost may already
 *   have run, and running INCRBY or PUBLISH twice is worse than reporting the error.
 * - `retryStrategy` reconnects forever, quickly at first and then once a second, so the platform recovers
 *   within about a second of Redis coming back and a queued command waits at most about a second.
 * - `connectTimeout` gives up on a host that does not answer (no RST) long before the 10 s default.
 * - `commandTimeout` is the last bound on any single command, queued or sent.
 * - No `socketTimeout`: a subscriber connection is legitimately silent for long periods.
 */
export const REDIS_CLIENT_OPTIONS: RedisOptions = {
  enableOfflineQueue: true,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  retryStrategy: (attempt) => Math.min(50 * 2 ** (attempt - 1), 1000) + Math.floor(Math.random() * 50),
  connectTimeout: 2000,
  commandTimeout: 3000,
  // Commands issued in the same tick (session look-ups and fan-out publishes of concurrent requests)
  // leave in one write.
  enableAutoPipelining: true,
};

/** How often an idle connection is checked, unless the caller says otherwise. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** The heartbeat timer of each open client, stopped when it is closed. */
const heartbeats = new WeakMap<Redis, NodeJS.Timeout>();

/**
 * Opens a client with the shared settings and reports connection trouble to the log once per outage rather
 * than on every reconnect attempt.
 *
 * A connection whose peer vanished without closing it (a host gone, a partition) looks open for many
 * minutes: commands on it only time out, and a subscriber on it simply receives nothing. A heartbeat PING
 * notices within `heartbeatMs` plus the command timeout and replaces the connection, which re-subscribes.
 */
export function openRedisClient(
  url: string,
  options: { name: string; logger: Logger; heartbeatMs?: number; client?: RedisOptions },
): Redis {
  const client = new Redis(url, { ...REDIS_CLIENT_OPTIONS, ...options.client, connectionName: options.name });
  let checking = false;
  const heartbeat = setInterval(async () => {
    if (checking || client.status !== 'ready') return;
    checking = true;
    try {
      await client.ping();
    } catch (error) {
      // Only a connection that still claims to be up is replaced; otherwise reconnecting is under way.
      if (client.status === 'ready') {
        options.logger.warn('redis connection does not answer, replacing it', {
          connection: options.name,
          error,
        });
        client.disconnect(true);
      }
    } finally {
      checking = false;
    }
  }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  heartbeat.unref();
  heartbeats.set(client, heartbeat);
  let outageSince: number | null = null;
  let lastError: Error | undefined;
  client.on('error', (error: Error) => {
    lastError = error;
    // Errors during an outage repeat on every attempt; the outage itself is logged once below.
    if (client.status === 'ready')
      options.logger.warn('redis client error', { connection: options.name, error });
  });
  client.on('reconnecting', () => {
    if (outageSince !== null) return;
    outageSince = Date.now();
    options.logger.warn('redis connection lost, reconnecting', {
      connection: options.name,
      error: lastError,
    });
  });
  client.on('ready', () => {
    lastError = undefined;
    if (outageSince === null) return;
    options.logger.info('redis connection restored', {
      connection: options.name,
      outageMs: Date.now() - outageSince,
    });
    outageSince = null;
  });
  return client;
}

/** Resolves when the client can run a command now; throws at once while it is between connections. */
export async function pingRedis(client: Redis): Promise<void> {
  // While reconnecting a PING would wait for the next attempt; readiness must answer now.
  if (client.status === 'reconnecting' || client.status === 'close' || client.status === 'end') {
    throw new Error(`redis is not connected (${client.status})`);
  }
  await client.ping();
}

/** Closes the client, letting sent commands finish when Redis is there and dropping it when it is not. */
export async function closeRedisClient(client: Redis): Promise<void> {
  clearInterval(heartbeats.get(client));
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/**
 * Adds `ARGV[1]` to the counter and, only when this call created it (a missing or expired key), gives it
 * the expiry `ARGV[2]` in milliseconds; an expiry of zero or less means the counter is born expired.
 * A script, so the existence check, the increment and the expiry are one atomic step.
 */
const INCREMENT_SCRIPT = `
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created and ARGV[2] ~= '' then
  local ttl = tonumber(ARGV[2])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('DEL', KEYS[1]) end
end
return value
`;

interface IncrementCommand {
  kvIncrement(key: string, by: number, ttlMs: string): Promise<number>;
}

/** Whole milliseconds, as Redis takes them; a fraction rounds up so a tiny positive ttl still stores. */
function wholeMs(ttlMs: number | undefined): number | undefined {
  if (ttlMs === undefined) return undefined;
  if (!Number.isFinite(ttlMs)) throw new RangeError(`ttlMs must be a finite number, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

export class RedisKeyValueStore implements KeyValueStore {
  private readonly client: Redis;
  private readonly prefix: string;
  private closed = false;

  /**
   * `keyPrefix` is put before every key, so environments and test runs can share one Redis.
   * `heartbeatMs`: see openRedisClient.
   */
  constructor(url: string, options: { keyPrefix?: string; logger?: Logger; heartbeatMs?: number } = {}) {
    this.prefix = options.keyPrefix ?? '';
    const logger = options.logger ?? createLogger('warn', { component: 'redis-kv' });
    this.client = openRedisClient(url, { name: 'integr8s-kv', logger, heartbeatMs: options.heartbeatMs });
    // Sent as EVALSHA, falling back to EVAL when Redis does not know the script (e.g. after a restart).
    this.client.defineCommand('kvIncrement', { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
  }

  async get(key: string): Promise<string | null> {
    this.assertOpen();
    return this.client.get(this.prefix + key);
  }

  async set(
    key: string,
    value: string,
    options: { ttlMs?: number; onlyIfAbsent?: boolean } = {},
  ): Promise<boolean> {
    this.assertOpen();
    const fullKey = this.prefix + key;
    const ttl = wholeMs(options.ttlMs);
    if (ttl !== undefined && ttl <= 0) {
      // Stored already expired: the key ends up absent, unless set-if-absent found a live one.
      if (options.onlyIfAbsent) return (await this.client.exists(fullKey)) === 0;
      await this.client.del(fullKey);
      return true;
    }
    // SET without PX also drops an expiry the key had, as the contract asks.
    const reply =
      ttl === undefined
        ? options.onlyIfAbsent
          ? await this.client.set(fullKey, value, 'NX')
          : await this.client.set(fullKey, value)
        : options.onlyIfAbsent
          ? await this.client.set(fullKey, value, 'PX', ttl, 'NX')
          : await this.client.set(fullKey, value, 'PX', ttl);
    return reply === 'OK';
  }

  async increment(key: string, options: { by?: number; ttlMs?: number } = {}): Promise<number> {
    this.assertOpen();
    const by = options.by ?? 1;
    if (!Number.isSafeInteger(by)) throw new RangeError(`increment must be an integer, got ${by}`);
    const ttl = wholeMs(options.ttlMs);
    const command = this.client as unknown as IncrementCommand;
    return Number(await command.kvIncrement(this.prefix + key, by, ttl === undefined ? '' : String(ttl)));
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    await this.client.del(this.prefix + key);
  }

  /** Resolves when Redis answers; throws within seconds, or at once while reconnecting, when it does not. */
  async ready(): Promise<void> {
    this.assertOpen();
    await pingRedis(this.client);
  }

  async close(): Promise<void> {
    this.closed = true;
    await closeRedisClient(this.client);
  }

  /** A client closed between reconnect attempts would queue commands until they time out; fail them now. */
  private assertOpen(): void {
    if (this.closed) throw new Error('key-value store is closed');
  }
}
