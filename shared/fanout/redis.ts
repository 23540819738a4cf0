/**
 * Fan-out over Redis pub/sub, so an event published by any replica reaches the open streams of every
 * replica. One connection publishes and one connection carries every subscription of this process: a
 * channel is subscribed in Redis once, however many local streams follow it, and messages are handed to
 * the local subscribers from there. Redis pub/sub keeps nothing: a message published while the subscriber
 * connection is down is lost to the streams open at that moment; the store still has the event, and a
 * stream that reconnects replays it from there.
 */
import type { Redis } from 'ioredis';
import { closeRedisClient, openRedisClient, pingRedis } from '../kv/redis';
import { createLogger, type Logger } from '../log';
import type { Fanout } from './port';

/** One subscription; an object per call, so the same callback subscribed twice counts twice. */
interface Subscription {
  onMessage: (message: string) => void;
  onGap?: () => void;
}

/** The local subscribers of one channel and the Redis SUBSCRIBE they share. */
interface Channel {
  subscriptions: Set<Subscription>;
  /** Settles when Redis answered the SUBSCRIBE sent when the first subscriber arrived. */
  subscribed: Promise<void>;
}

/** SUBSCRIBE arguments per command when re-subscribing after a reconnect, to keep each command small. */
const RESUBSCRIBE_BATCH = 1000;

export class RedisFanout implements Fanout {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channels = new Map<string, Channel>();
  private readonly prefix: string;
  private readonly logger: Logger;
  private connectedBefore = false;
  /**
   * Messages that arrive on a fresh connection before its subscribers have been told of the gap: held
   * back so every subscriber hears of the gap before anything published after it.
   */
  private heldBack: [string, string][] | null = null;
  private closed = false;

  /**
   * `channelPrefix` is put before every channel name: pub/sub ignores Redis databases, so this is the way to
   * keep environments and test runs on one Redis apart. `heartbeatMs`: see openRedisClient.
   */
  constructor(url: string, options: { channelPrefix?: string; logger?: Logger; heartbeatMs?: number } = {}) {
    this.prefix = options.channelPrefix ?? '';
    this.logger = options.logger ?? createLogger('warn', { component: 'redis-fanout' });
    const { heartbeatMs } = options;
    this.publisher = openRedisClient(url, { name: 'integr8s-fanout-pub', logger: this.logger, heartbeatMs });
    this.subscriber = openRedisClient(url, {
      name: 'integr8s-fanout-sub',
      logger: this.logger,
      heartbeatMs,
      // Re-subscribing is done here rather than by the client, so it follows exactly the channels that have
      // local subscribers now, and is logged.
      client: { autoResubscribe: false },
    });
    this.subscriber.on('ready', () => this.onSubscriberReady());
    this.subscriber.on('message', (channel: string, message: string) => {
      if (this.heldBack) this.heldBack.push([channel, message]);
      else this.deliver(channel, message);
    });
  }

  async publish(channel: string, message: string): Promise<void> {
    // Like the in-process fan-out, a closed fan-out delivers nothing.
    if (this.closed) return;
    await this.publisher.publish(this.prefix + channel, message);
  }

  async subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onGap?: () => void,
  ): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('fan-out is closed');
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = {
        subscriptions: new Set(),
        subscribed: this.subscriber.subscribe(this.prefix + channel).then(() => undefined),
      };
      this.channels.set(channel, entry);
    }
    const subscription: Subscription = { onMessage, onGap };
    entry.subscriptions.add(subscription);
    try {
      await entry.subscribed;
    } catch (error) {
      // Not awaited: the caller learns of the failure now, not after a best-effort UNSUBSCRIBE.
      void this.remove(channel, entry, subscription);
      throw error;
    }
    const joined = entry;
    return () => this.remove(channel, joined, subscription);
  }

  /** Resolves when both connections answer; throws within seconds, or at once while reconnecting. */
  async ready(): Promise<void> {
    await Promise.all([pingRedis(this.publisher), pingRedis(this.subscriber)]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    await Promise.all([closeRedisClient(this.publisher), closeRedisClient(this.subscriber)]);
  }

  /** Number of channels with at least one local subscriber. */
  get channelCount(): number {
    return this.channels.size;
  }

  private deliver(prefixedChannel: string, message: string): void {
    if (!prefixedChannel.startsWith(this.prefix)) return;
    const channel = prefixedChannel.slice(this.prefix.length);
    const subscriptions = this.channels.get(channel)?.subscriptions;
    if (!subscriptions) return;
    // A snapshot, so a subscriber added during delivery waits for the next message.
    for (const subscription of [...subscriptions]) {
      // Skip one removed by an earlier subscriber during this delivery.
      if (!subscriptions.has(subscription)) continue;
      try {
        subscription.onMessage(message);
      } catch (error) {
        this.logger.error('fan-out subscriber failed', { channel, error });
      }
    }
  }

  private reportGap(channel: string): void {
    for (const subscription of [...(this.channels.get(channel)?.subscriptions ?? [])]) {
      try {
        subscription.onGap?.();
      } catch (error) {
        this.logger.error('fan-out subscriber failed', { channel, error });
      }
    }
  }

  /** Drops one subscription; the last one of a channel also unsubscribes in Redis. Safe to call twice. */
  private async remove(channel: string, entry: Channel, subscription: Subscription): Promise<void> {
    if (!entry.subscriptions.delete(subscription)) return;
    if (entry.subscriptions.size > 0 || this.channels.get(channel) !== entry) return;
    this.channels.delete(channel);
    if (this.closed) return;
    try {
      // Commands on the connection run in order, so a SUBSCRIBE sent later by a new subscriber of the same
      // channel lands after this and wins.
      await this.subscriber.unsubscribe(this.prefix + channel);
    } catch (error) {
      // Only possible while Redis is unreachable, and a reconnect re-subscribes only live channels; a stray
      // message meanwhile finds no local channel and is dropped.
      this.logger.warn('fan-out unsubscribe failed', { channel, error });
    }
  }

  /**
   * A fresh subscriber connection has no subscriptions: after a reconnect (Redis restarted, network blip)
   * every channel that still has local subscribers is subscribed again, and then told of the gap, since
   * whatever was published while the connection was down never reached it.
   */
  private onSubscriberReady(): void {
    if (!this.connectedBefore) {
      this.connectedBefore = true;
      return;
    }
    if (this.closed) return;
    const channels = [...this.channels.keys()];
    if (channels.length === 0) return;
    const started = Date.now();
    this.heldBack ??= [];
    const releaseHeldBack = () => {
      const held = this.heldBack ?? [];
      this.heldBack = null;
      for (const [channel, message] of held) this.deliver(channel, message);
    };
    const batches: Promise<unknown>[] = [];
    for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) {
      const batch = channels.slice(i, i + RESUBSCRIBE_BATCH).map((channel) => this.prefix + channel);
      batches.push(this.subscriber.subscribe(...batch));
    }
    Promise.all(batches).then(
      () => {
        this.logger.info('fan-out re-subscribed after reconnect', {
          channels: channels.length,
          ms: Date.now() - started,
        });
        for (const channel of channels) this.reportGap(channel);
        releaseHeldBack();
      },
      // The connection dropped again; the next reconnect tries again.
      (error: unknown) => {
        this.logger.error('fan-out re-subscribe failed', { channels: channels.length, error });
        releaseHeldBack();
      },
    );
  }
}
