import { describe, expect, it } from 'vitest';
import { LatestPerKey } from './latest-per-key';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('LatestPerKey', () => {
  it('handles one item per key at a time, the newest one, within the bound', async () => {
    const handled: string[] = [];
    let active = 0;
    let most = 0;
    const queue = new LatestPerKey<number>(2, async (key, item) => {
      active++;
      most = Math.max(most, active);
      await tick();
      handled.push(`${key}:${item}`);
      active--;
    });
    queue.push('a', 1);
    queue.push('a', 2); // waits for a:1, then replaces nothing: it is the newest
    queue.push('a', 3); // replaces a:2, which was never handled
    queue.push('b', 1);
    queue.push('c', 1);
    await queue.idle();
    expect(handled.filter((h) => h.startsWith('a'))).toEqual(['a:1', 'a:3']);
    expect(handled).toContain('b:1');
    expect(handled).toContain('c:1');
    expect(most).toBe(2);
    expect(queue.size).toBe(0);
  });

  it('a failing handler does not stop the queue', async () => {
    const handled: number[] = [];
    const queue = new LatestPerKey<number>(1, async (_key, item) => {
      if (item === 1) throw new Error('boom');
      handled.push(item);
    });
    queue.push('a', 1);
    queue.push('b', 2);
    await queue.idle();
    expect(handled).toEqual([2]);
  });
});
