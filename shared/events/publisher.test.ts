import { describe, expect, it } from 'vitest';
import type { EventBus } from '../bus/port';
import { executionChannel, type Fanout } from '../fanout/port';
import type { EventStore, StoredEvent } from '../store/ports';
import { EventPublisher, type FanoutMessage } from './publisher';
import { executionCompleted, executionOutput, executionRequested, userLoggedIn } from './sample-events';
import { type DomainEvent, type EventOf, parseDomainEvent } from './schemas';

/** In-memory ports that write every step into one journal, so the order across ports is visible. */
function fakePorts() {
  const journal: string[] = [];
  const stored = new Map<string, StoredEvent>();
  const fanned: { channel: string; message: FanoutMessage }[] = [];
  const published: DomainEvent[] = [];
  let failAppend = false;

  const store: Pick<EventStore, 'append' | 'listByAggregate' | 'get'> = {
    async append(event) {
      if (failAppend) throw new Error('disk full');
      journal.push(`store ${event.event_type}`);
      const first = stored.get(event.event_id);
      if (first) return { ...first, duplicate: true };
      const copy: StoredEvent = { seq: stored.size + 1, event, stored_at: new Date().toISOString() };
      stored.set(event.event_id, copy);
      return { ...copy, duplicate: false };
    },
    async listByAggregate() {
      return [...stored.values()];
    },
    async get(eventId) {
      return stored.get(eventId) ?? null;
    },
  };
  const fanout: Fanout = {
    async publish(channel, message) {
      journal.push(`fanout ${channel}`);
      fanned.push({ channel, message: JSON.parse(message) });
    },
    async subscribe() {
      return async () => {};
    },
    async close() {},
  };
  const bus: EventBus = {
    async publish(event) {
      journal.push(`bus ${event.event_type}`);
      published.push(event);
    },
    async ready() {},
    async drain() {},
    async close() {},
  };
  const now = new Date('2026-03-01T12:00:00.000Z');
  const publisher = new EventPublisher(store, fanout, bus, { name: 'monitor', version: '1.2.3' }, () => now);
  return {
    publisher,
    journal,
    stored,
    fanned,
    published,
    now,
    failAppends: () => {
      failAppend = true;
    },
  };
}

describe('EventPublisher.publish', () => {
  it('stores an execution event, then fans it out with its seq, then hands it to the bus', async () => {
    const ports = fakePorts();
    const event = executionCompleted();

    const result = await ports.publisher.publish(event);

    expect(ports.journal).toEqual([
      'store execution_completed',
      `fanout ${executionChannel(event.execution_id)}`,
      'bus execution_completed',
    ]);
    expect(result.seq).toBe(1);
    expect(ports.fanned).toEqual([{ channel: `sse:exec:${event.execution_id}`, message: { seq: 1, event } }]);
    expect(ports.published).toEqual([event]);
  });

  it('keeps execution_output off the bus but stores and streams it', async () => {
    const ports = fakePorts();
    const event = executionOutput();

    await ports.publisher.publish(event);

    expect(ports.journal).toEqual([
      'store execution_output',
      `fanout ${executionChannel(event.execution_id)}`,
    ]);
    expect(ports.published).toEqual([]);
  });

  it('does not fan out an event that belongs to no execution', async () => {
    const ports = fakePorts();
    const event = userLoggedIn();

    await ports.publisher.publish(event);

    expect(ports.journal).toEqual(['store user_logged_in', 'bus user_logged_in']);
  });

  it("does not fan out an execution's first event: nobody can be following it yet", async () => {
    const ports = fakePorts();

    await ports.publisher.publish(executionRequested());

    expect(ports.journal).toEqual(['store execution_requested', 'bus execution_requested']);
  });

  it('republishes the stored first copy when the event was already appended', async () => {
    const ports = fakePorts();
    const first = executionCompleted();
    const retry = { ...first, timestamp: '2030-01-01T00:00:00.000Z' };
    await ports.publisher.publish(first);
    await ports.publisher.publish(executionCompleted(first.execution_id));

    const result = await ports.publisher.publish(retry);

    expect(ports.stored.size).toBe(2);
    expect(result.seq).toBe(1);
    expect(ports.fanned.at(-1)).toEqual({
      channel: executionChannel(first.execution_id),
      message: { seq: 1, event: first },
    });
    expect(ports.published.at(-1)).toEqual(first);
    expect(ports.published.filter((event) => event.event_id === first.event_id)).toHaveLength(2);
  });

  it('fans out and publishes nothing when storing fails', async () => {
    const ports = fakePorts();
    ports.failAppends();

    await expect(ports.publisher.publish(executionCompleted())).rejects.toThrow('disk full');

    expect(ports.journal).toEqual([]);
  });

  it('hands the event on only after the record written alongside it is stored too', async () => {
    const ports = fakePorts();
    let written = false;
    await ports.publisher.publish(executionCompleted(), {
      writeAlongside: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        ports.journal.push('record');
        written = true;
      },
    });
    expect(written).toBe(true);
    expect(ports.journal.indexOf('record')).toBeLessThan(ports.journal.indexOf('bus execution_completed'));
    expect(ports.journal.indexOf('record')).toBeLessThan(
      ports.journal.findIndex((step) => step.startsWith('fanout')),
    );
  });

  it('fans out and publishes nothing when the record written alongside fails', async () => {
    const ports = fakePorts();
    const failing = ports.publisher.publish(executionCompleted(), {
      writeAlongside: async () => {
        throw new Error('duplicate');
      },
    });
    await expect(failing).rejects.toThrow('duplicate');
    expect(ports.journal).toEqual(['store execution_completed']);
  });
});

describe('EventPublisher.create', () => {
  it('wraps fields in a valid envelope keyed by the execution', () => {
    const ports = fakePorts();
    const event = ports.publisher.create<EventOf<'pod_created'>>(
      {
        event_type: 'pod_created',
        execution_id: 'exec-1',
        pod_name: 'executor-exec-1',
        namespace: 'default',
      },
      { userId: 'user-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    );

    expect(parseDomainEvent(event)).toEqual(event);
    expect(event).toMatchObject({
      aggregate_id: 'exec-1',
      event_version: '1.0',
      timestamp: ports.now.toISOString(),
      metadata: {
        service_name: 'monitor',
        service_version: '1.2.3',
        user_id: 'user-1',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
    });
  });

  it('derives the same id from the same cause, so a repeated handler emits the same event', () => {
    const { publisher } = fakePorts();
    const fields = { event_type: 'pod_created', execution_id: 'e', pod_name: 'p', namespace: 'n' } as const;

    const once = publisher.create<EventOf<'pod_created'>>(fields, { causedBy: 'cause-1' });
    const again = publisher.create<EventOf<'pod_created'>>(fields, { causedBy: 'cause-1' });
    const otherCause = publisher.create<EventOf<'pod_created'>>(fields, { causedBy: 'cause-2' });
    const uncaused = [
      publisher.create<EventOf<'pod_created'>>(fields),
      publisher.create<EventOf<'pod_created'>>(fields),
    ];

    expect(again.event_id).toBe(once.event_id);
    expect(otherCause.event_id).not.toBe(once.event_id);
    expect(uncaused[0]!.event_id).not.toBe(uncaused[1]!.event_id);
  });
});
