/** Fan-out inside one process: the embedded default, where every function shares the process. */
import { createLogger, type Logger } from '../log';
import type { Fanout } from './port';

/** One subscription; an object per call, so the same callback subscribed twice counts twice. */
interface Subscription {
  onMessage: (message: string) => void;
}

export class InProcessFanout implements Fanout {
  private readonly channels = new Map<string, Set<Subscription>>();
  private readonly logger: Logger;
  private closed = false;

  constructor(options: { logger?: Logger } = {}) {
    this.logger = options.logger ?? createLogger('warn', { component: 'in-process-fanout' });
  }

  /** Delivers synchronously, before the returned promise settles, to the channel's subscribers in order. */
  async publish(channel: string, message: string): Promise<void> {
    const subscriptions = this.channels.get(channel);
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

  // Nothing is ever lost between publisher and subscriber in one process, so there is no gap to report.
  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('fan-out is closed');
    let subscriptions = this.channels.get(channel);
    if (!subscriptions) {
      subscriptions = new Set();
      this.channels.set(channel, subscriptions);
    }
    const subscription: Subscription = { onMessage };
    subscriptions.add(subscription);
    return async () => {
      const current = this.channels.get(channel);
      if (!current?.delete(subscription)) return;
      // Channels are per execution and per user: drop empty ones so they do not accumulate.
      if (current.size === 0) this.channels.delete(channel);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.channels.clear();
  }

  /** Number of channels with at least one subscriber. */
  get channelCount(): number {
    return this.channels.size;
  }
}
