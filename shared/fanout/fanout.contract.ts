/** Behaviour every Fanout adapter must show; adapters call this from their own test file. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fanout } from './port';

/** Retries `assertion` until it passes, so the suite also fits adapters that deliver asynchronously. */
async function eventually(assertion: () => void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

export function describeFanoutContract(adapterName: string, make: () => Promise<Fanout>): void {
  describe(`Fanout contract: ${adapterName}`, () => {
    let fanout: Fanout;
    beforeEach(async () => {
      fanout = await make();
    });
    afterEach(async () => {
      await fanout.close();
    });

    const collect = async (channel: string) => {
      const received: string[] = [];
      const unsubscribe = await fanout.subscribe(channel, (message) => received.push(message));
      return { received, unsubscribe };
    };

    it('delivers the messages of a channel in publish order', async () => {
      const subscriber = await collect('sse:exec:1');
      const messages = Array.from({ length: 100 }, (_, i) => `{"seq":${i}}`);
      for (const message of messages) await fanout.publish('sse:exec:1', message);
      await eventually(() => expect(subscriber.received).toEqual(messages));
    });

    it('delivers every message to every subscriber of the channel', async () => {
      const first = await collect('sse:exec:1');
      const second = await collect('sse:exec:1');
      await fanout.publish('sse:exec:1', 'a');
      await fanout.publish('sse:exec:1', 'b');
      await eventually(() => {
        expect(first.received).toEqual(['a', 'b']);
        expect(second.received).toEqual(['a', 'b']);
      });
    });

    it('keeps channels apart', async () => {
      const one = await collect('sse:exec:1');
      const two = await collect('sse:exec:2');
      await fanout.publish('sse:exec:1', 'for one');
      await fanout.publish('sse:exec:2', 'for two');
      await fanout.publish('sse:exec:3', 'for nobody');
      await eventually(() => {
        expect(one.received).toEqual(['for one']);
        expect(two.received).toEqual(['for two']);
      });
    });

    it('stops delivering after unsubscribe, which may be called twice', async () => {
      const leaving = await collect('sse:notif:u1');
      const staying = await collect('sse:notif:u1');
      await fanout.publish('sse:notif:u1', 'before');
      await eventually(() => expect(leaving.received).toEqual(['before']));
      await leaving.unsubscribe();
      await leaving.unsubscribe();
      await fanout.publish('sse:notif:u1', 'after');
      // The channel is ordered, so once `staying` has "after", `leaving` would have had it too.
      await eventually(() => expect(staying.received).toEqual(['before', 'after']));
      expect(leaving.received).toEqual(['before']);
    });

    it('treats the same callback subscribed twice as two subscriptions', async () => {
      const received: string[] = [];
      const onMessage = (message: string) => received.push(message);
      const unsubscribeFirst = await fanout.subscribe('sse:exec:1', onMessage);
      await fanout.subscribe('sse:exec:1', onMessage);
      await fanout.publish('sse:exec:1', 'x');
      await eventually(() => expect(received).toEqual(['x', 'x']));
      await unsubscribeFirst();
      await fanout.publish('sse:exec:1', 'y');
      await eventually(() => expect(received).toEqual(['x', 'x', 'y']));
    });

    it('publishes to a channel nobody listens to', async () => {
      await expect(fanout.publish('sse:exec:none', 'lost')).resolves.toBeUndefined();
    });

    it('keeps delivering to the others when one subscriber throws', async () => {
      const before = await collect('sse:exec:1');
      await fanout.subscribe('sse:exec:1', () => {
        throw new Error('subscriber broke');
      });
      const after = await collect('sse:exec:1');
      await fanout.publish('sse:exec:1', 'one');
      await fanout.publish('sse:exec:1', 'two');
      await eventually(() => {
        expect(before.received).toEqual(['one', 'two']);
        expect(after.received).toEqual(['one', 'two']);
      });
    });

    it('serves 10,000 subscribers on one channel without warnings', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      try {
        const counts = new Array<number>(10_000).fill(0);
        const unsubscribes = [];
        for (let i = 0; i < counts.length; i++) {
          unsubscribes.push(await fanout.subscribe('sse:exec:busy', () => counts[i]!++));
        }
        await fanout.publish('sse:exec:busy', 'hello');
        await eventually(() => expect(counts.every((count) => count === 1)).toBe(true));
        for (const unsubscribe of unsubscribes.slice(0, 5_000)) await unsubscribe();
        await fanout.publish('sse:exec:busy', 'again');
        await eventually(() => expect(counts.slice(5_000).every((count) => count === 2)).toBe(true));
        expect(counts.slice(0, 5_000).every((count) => count === 1)).toBe(true);
        // Warnings are emitted on a later tick.
        await new Promise((resolve) => setImmediate(resolve));
        expect(warnings).toEqual([]);
      } finally {
        process.off('warning', onWarning);
      }
    });
  });
}
