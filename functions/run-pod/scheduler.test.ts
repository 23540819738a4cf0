import { describe, expect, it } from 'vitest';
import type { QueuePriority } from '../../shared/domain/execution';
import { ExecutionScheduler, type Job } from './scheduler';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function harness(capacity: number) {
  const started: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred>>();
  const errors: string[] = [];
  const scheduler = new ExecutionScheduler<Job>(
    capacity,
    async (job) => {
      started.push(job.executionId);
      const gate = deferred();
      gates.set(job.executionId, gate);
      await gate.promise;
      if (job.executionId.startsWith('boom')) throw new Error('run failed');
    },
    (job) => errors.push(job.executionId),
  );
  const finish = async (id: string) => {
    gates.get(id)!.resolve();
    await new Promise((r) => setTimeout(r, 0));
  };
  const job = (executionId: string, priority: QueuePriority = 'normal') => ({ executionId, priority });
  return { scheduler, started, finish, errors, job };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('ExecutionScheduler', () => {
  it('never runs more than its capacity and starts the next job when a slot frees', async () => {
    const { scheduler, started, finish, job } = harness(2);
    for (const id of ['a', 'b', 'c']) scheduler.enqueue(job(id));
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect(scheduler.stats).toEqual({ running: 2, waiting: 1, capacity: 2 });
    await finish('a');
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('follows a new capacity: more admits waiting jobs at once, fewer lets running ones finish first', async () => {
    const { scheduler, started, finish, job } = harness(1);
    for (const id of ['a', 'b', 'c', 'd']) scheduler.enqueue(job(id));
    await tick();
    expect(started).toEqual(['a']);
    scheduler.setCapacity(3);
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    scheduler.setCapacity(1);
    await finish('a');
    await finish('b');
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    await finish('c');
    await tick();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(scheduler.stats).toEqual({ running: 1, waiting: 0, capacity: 1 });
  });

  it('takes higher priorities first and keeps arrival order within a priority', async () => {
    const { scheduler, started, finish, job } = harness(1);
    scheduler.enqueue(job('first'));
    scheduler.enqueue(job('low', 'low'));
    scheduler.enqueue(job('normal-1'));
    scheduler.enqueue(job('critical', 'critical'));
    scheduler.enqueue(job('normal-2'));
    await tick();
    for (const id of ['first', 'critical', 'normal-1', 'normal-2']) await finish(id);
    await tick();
    expect(started).toEqual(['first', 'critical', 'normal-1', 'normal-2', 'low']);
  });

  it('ignores a job it already holds', async () => {
    const { scheduler, started, job } = harness(1);
    expect(scheduler.enqueue(job('a'))).toBe(true);
    expect(scheduler.enqueue(job('a'))).toBe(false);
    expect(scheduler.enqueue(job('b'))).toBe(true);
    expect(scheduler.enqueue(job('b'))).toBe(false);
    await tick();
    expect(started).toEqual(['a']);
  });

  it('cancels a waiting job without running it and reports a running one', async () => {
    const { scheduler, started, finish, job } = harness(1);
    scheduler.enqueue(job('a'));
    scheduler.enqueue(job('b'));
    await tick();
    expect(scheduler.cancel('b')).toBe('dequeued');
    expect(scheduler.cancel('a')).toBe('running');
    expect(scheduler.cancel('zzz')).toBe('unknown');
    await finish('a');
    await tick();
    expect(started).toEqual(['a']);
  });

  it('releases the slot when a run throws', async () => {
    const { scheduler, started, finish, errors, job } = harness(1);
    scheduler.enqueue(job('boom'));
    scheduler.enqueue(job('next'));
    await tick();
    await finish('boom');
    await tick();
    expect(errors).toEqual(['boom']);
    expect(started).toEqual(['boom', 'next']);
    expect(scheduler.stats.running).toBe(1);
  });
});
