import { describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../log';
import { describeFanoutContract } from './fanout.contract';
import { InProcessFanout } from './in-process';
import { executionChannel } from './port';

const silent = createLogger('silent');

describeFanoutContract('in-process', async () => new InProcessFanout({ logger: silent }));

describe('InProcessFanout', () => {
  it('has delivered to every subscriber, in subscription order, before publish returns', async () => {
    const fanout = new InProcessFanout({ logger: silent });
    const calls: string[] = [];
    await fanout.subscribe(executionChannel('e1'), (message) => calls.push(`first:${message}`));
    await fanout.subscribe(executionChannel('e1'), (message) => calls.push(`second:${message}`));
    const published = fanout.publish(executionChannel('e1'), 'm');
    expect(calls).toEqual(['first:m', 'second:m']);
    await published;
  });

  it('reports a throwing subscriber to the log with its channel', async () => {
    const reported: { msg: string; fields?: Record<string, unknown> }[] = [];
    const logger: Logger = {
      ...silent,
      error: (msg, fields) => reported.push({ msg, fields }),
    };
    const fanout = new InProcessFanout({ logger });
    await fanout.subscribe('c', () => {
      throw new Error('boom');
    });
    await fanout.publish('c', 'm');
    expect(reported).toHaveLength(1);
    expect(reported[0]?.fields).toMatchObject({
      channel: 'c',
      error: expect.objectContaining({ message: 'boom' }),
    });
  });

  it('does not deliver to a subscriber that an earlier one unsubscribed during the same delivery', async () => {
    const fanout = new InProcessFanout({ logger: silent });
    const received: string[] = [];
    let unsubscribeLater: () => Promise<void> = async () => {};
    await fanout.subscribe('c', () => {
      void unsubscribeLater();
    });
    unsubscribeLater = await fanout.subscribe('c', (message) => received.push(message));
    await fanout.publish('c', 'm');
    expect(received).toEqual([]);
  });

  it('delivers to a subscriber added during a delivery from the next message on', async () => {
    const fanout = new InProcessFanout({ logger: silent });
    const late: string[] = [];
    let added = false;
    await fanout.subscribe('c', () => {
      if (added) return;
      added = true;
      void fanout.subscribe('c', (message) => late.push(message));
    });
    await fanout.publish('c', 'first');
    await fanout.publish('c', 'second');
    expect(late).toEqual(['second']);
  });

  it('forgets channels whose last subscriber left', async () => {
    const fanout = new InProcessFanout({ logger: silent });
    const unsubscribes = await Promise.all(
      Array.from({ length: 100 }, (_, i) => fanout.subscribe(executionChannel(`e${i}`), () => {})),
    );
    expect(fanout.channelCount).toBe(100);
    for (const unsubscribe of unsubscribes) await unsubscribe();
    expect(fanout.channelCount).toBe(0);
  });

  it('delivers nothing and refuses subscriptions once closed', async () => {
    const fanout = new InProcessFanout({ logger: silent });
    const received: string[] = [];
    await fanout.subscribe('c', (message) => received.push(message));
    await fanout.close();
    await fanout.publish('c', 'late');
    expect(received).toEqual([]);
    await expect(fanout.subscribe('c', () => {})).rejects.toThrow(/closed/);
  });
});
