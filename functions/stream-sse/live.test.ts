import { describe, expect, it } from 'vitest';
import { InProcessFanout } from '../../shared/fanout/in-process';
import type { Fanout } from '../../shared/fanout/port';
import { createLogger } from '../../shared/log';
import { LiveChannels } from './live';

const silent = createLogger('silent');

describe('LiveChannels', () => {
  it('subscribes once per channel and prepares each message once for all its listeners', async () => {
    const fanout = new InProcessFanout({ logger: silent });
    const prepared: string[] = [];
    const live = new LiveChannels(
      fanout,
      (message) => {
        prepared.push(message);
        return message.toUpperCase();
      },
      silent,
    );
    const received: string[][] = [[], [], []];
    const leaves = await Promise.all(
      received.map((into) => live.join('c', { onItem: (item) => into.push(item) })),
    );
    expect(fanout.channelCount).toBe(1);
    await fanout.publish('c', 'a');
    await fanout.publish('c', 'b');
    await new Promise((resolve) => setImmediate(resolve));
    expect(prepared).toEqual(['a', 'b']);
    expect(received).toEqual([
      ['A', 'B'],
      ['A', 'B'],
      ['A', 'B'],
    ]);
    for (const leave of leaves.slice(1)) leave();
    expect(fanout.channelCount).toBe(1);
    leaves[0]!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fanout.channelCount).toBe(0);
  });

  it('keeps arrival order when preparing a message waits, and skips what prepares to null', async () => {
    const fanout = new InProcessFanout({ logger: silent });
    const live = new LiveChannels(
      fanout,
      async (message) => {
        if (message === 'slow') await new Promise((resolve) => setTimeout(resolve, 20));
        return message === 'hidden' ? null : message;
      },
      silent,
    );
    const received: string[] = [];
    await live.join('c', { onItem: (item) => received.push(item) });
    for (const message of ['slow', 'hidden', 'fast']) await fanout.publish('c', message);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(received).toEqual(['slow', 'fast']);
  });

  it('tells every listener of a gap after the messages that arrived before it', async () => {
    let reportGap = () => {};
    const inner = new InProcessFanout({ logger: silent });
    const fanout: Fanout = {
      publish: (channel, message) => inner.publish(channel, message),
      subscribe: async (channel, onMessage, onGap) => {
        reportGap = () => onGap?.();
        return inner.subscribe(channel, onMessage);
      },
      close: () => inner.close(),
    };
    const live = new LiveChannels(
      fanout,
      async (message) => {
        if (message === 'slow') await new Promise((resolve) => setTimeout(resolve, 20));
        return message;
      },
      silent,
    );
    const seen: string[][] = [[], []];
    for (const into of seen)
      await live.join('c', { onItem: (item) => into.push(item), onGap: () => into.push('<gap>') });
    await fanout.publish('c', 'slow');
    reportGap();
    await fanout.publish('c', 'after');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(seen).toEqual([
      ['slow', '<gap>', 'after'],
      ['slow', '<gap>', 'after'],
    ]);
  });

  it('reports a failed subscription to every waiting listener and tries again on the next join', async () => {
    let attempts = 0;
    const inner = new InProcessFanout({ logger: silent });
    const fanout: Fanout = {
      publish: (channel, message) => inner.publish(channel, message),
      subscribe: async (channel, onMessage) => {
        attempts += 1;
        if (attempts === 1) throw new Error('redis down');
        return inner.subscribe(channel, onMessage);
      },
      close: () => inner.close(),
    };
    const live = new LiveChannels(fanout, (message) => message, silent);
    const failed = await Promise.allSettled([
      live.join('c', { onItem: () => {} }),
      live.join('c', { onItem: () => {} }),
    ]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    const received: string[] = [];
    await live.join('c', { onItem: (item) => received.push(item) });
    await fanout.publish('c', 'm');
    await new Promise((resolve) => setImmediate(resolve));
    expect(attempts).toBe(2);
    expect(received).toEqual(['m']);
  });
});
