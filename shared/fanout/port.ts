/** Live fan-out to open streams: one channel per execution and one per user. Redis pub/sub in production. */
export interface Fanout {
  publish(channel: string, message: string): Promise<void>;
  /**
   * Resolves once the subscription is active; the returned function unsubscribes. `onGap` is called when
   * messages may have been lost (the connection to the fan-out broke and is back, subscribed again): the
   * subscriber re-reads from the store what it may have missed.
   */
  subscribe(
    channel: string,
    onMessage: (message: string) => void,
    onGap?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const executionChannel = (executionId: string): string => `sse:exec:${executionId}`;
export const userChannel = (userId: string): string => `sse:notif:${userId}`;
