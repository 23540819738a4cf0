/**
 * Live messages of fan-out channels, shared by every stream of this process that follows the channel:
 * one subscription per channel, and each message prepared (parsed, turned into frame bytes) once rather
 * than once per stream, then handed to the channel's listeners in the order it arrived.
 */
import type { Fanout } from '../../shared/fanout/port';
import type { Logger } from '../../shared/log';

export interface LiveListener<T> {
  onItem(item: T): void;
  /** Items may have been lost (see Fanout.subscribe); comes after every item received before it. */
  onGap?(): void;
}

interface Channel<T> {
  listeners: Set<LiveListener<T>>;
  /** Settles when the fan-out subscription is active; holds its unsubscribe. */
  subscribed: Promise<() => Promise<void>>;
  /** Preparing may wait (an end frame reads the result), so messages pass through one at a time. */
  queue: Promise<void>;
}

export class LiveChannels<T> {
  private readonly channels = new Map<string, Channel<T>>();

  /** `prepare` returns null for a message no stream shows. */
  constructor(
    private readonly fanout: Fanout,
    private readonly prepare: (message: string) => T | null | Promise<T | null>,
    private readonly log: Logger,
  ) {}

  /**
   * Resolves once `listener` gets every message published to `channel` from now on (and possibly some
   * published just before), or is told of a gap; the returned function stops it. Listeners must not throw.
   */
  async join(name: string, listener: LiveListener<T>): Promise<() => void> {
    let channel = this.channels.get(name);
    if (!channel) {
      const created: Channel<T> = {
        listeners: new Set(),
        subscribed: this.fanout.subscribe(
          name,
          (message) => this.receive(name, created, message),
          () => this.reportGap(name, created),
        ),
        queue: Promise.resolve(),
      };
      channel = created;
      this.channels.set(name, channel);
    }
    // An object per call, so the same listener joining twice counts twice.
    const entry: LiveListener<T> = {
      onItem: (item) => listener.onItem(item),
      onGap: () => listener.onGap?.(),
    };
    channel.listeners.add(entry);
    const joined = channel;
    const leave = () => this.leave(name, joined, entry);
    try {
      await channel.subscribed;
    } catch (error) {
      leave();
      throw error;
    }
    return leave;
  }

  private receive(name: string, channel: Channel<T>, message: string): void {
    channel.queue = channel.queue
      .then(() => this.prepare(message))
      .then((item) => {
        if (item === null) return;
        // A listener may leave (its stream closes) during delivery; a Set skips it from then on.
        for (const listener of channel.listeners) listener.onItem(item);
      })
      .catch((error: unknown) => this.log.error('live message dropped', { channel: name, error }));
  }

  /** In line with the messages, so listeners hear of the gap after everything that arrived before it. */
  private reportGap(name: string, channel: Channel<T>): void {
    channel.queue = channel.queue
      .then(() => {
        for (const listener of channel.listeners) listener.onGap?.();
      })
      .catch((error: unknown) => this.log.error('live gap not reported', { channel: name, error }));
  }

  /** The last listener of a channel also ends its subscription. Safe to call twice. */
  private leave(name: string, channel: Channel<T>, listener: LiveListener<T>): void {
    if (!channel.listeners.delete(listener) || channel.listeners.size > 0) return;
    if (this.channels.get(name) === channel) this.channels.delete(name);
    channel.subscribed.then(
      (unsubscribe) =>
        unsubscribe().catch((error: unknown) =>
          this.log.warn('fan-out unsubscribe failed', { channel: name, error }),
        ),
      // Never subscribed: nothing to undo; join has reported the failure.
      () => {},
    );
  }
}
