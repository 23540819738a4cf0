/**
 * The one way to emit an event: store it, fan it out to open streams, then hand it to the bus.
 * Store-then-publish means a crash between the steps is repaired by the caller's retry: the store
 * ignores the duplicate and the bus delivers again, and every consumer is idempotent on `event_id`.
 */
import { randomUUID } from 'node:crypto';
import { v5 as uuidV5 } from 'uuid';
import type { EventBus } from '../bus/port';
import { executionChannel, type Fanout } from '../fanout/port';
import type { EventStore, StoredEvent } from '../store/ports';
import type { DomainEvent, EventMetadata, EventType } from './schemas';

/** Events that only feed streams and the store; no function consumes them. */
const STREAM_ONLY: ReadonlySet<EventType> = new Set(['execution_output']);

/**
 * An execution's first event: stored before its id is handed to anyone, so no stream can be following
 * it yet (a stream that opens later replays it from the store).
 */
const UNSTREAMED: ReadonlySet<EventType> = new Set(['execution_requested']);

export type EventFields<T extends DomainEvent> = Omit<
  T,
  'event_id' | 'event_version' | 'timestamp' | 'metadata' | 'aggregate_id'
> & { aggregate_id?: string };

export interface EventContext {
  userId?: string;
  traceparent?: string;
  correlationId?: string;
  /**
   * The event this one is derived from. The new id is then a function of it, so a handler that runs
   * twice for the same input emits the same event, and the store keeps one copy.
   */
  causedBy?: string;
}

/** Namespace for derived event ids. */
const DERIVED_EVENT_NAMESPACE = '3c1f6e0a-5d8b-4c2e-9f4a-7b6d2e1a9c10';

export interface FanoutMessage {
  seq: number;
  event: DomainEvent;
}

export class EventPublisher {
  constructor(
    /** Publishing only ever appends. */
    private readonly store: Pick<EventStore, 'append'>,
    private readonly fanout: Fanout,
    private readonly bus: EventBus,
    private readonly service: { name: string; version: string },
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Builds the envelope around `fields`; the aggregate is the execution when there is one. */
  create<T extends DomainEvent>(fields: EventFields<T>, context: EventContext = {}): T {
    const metadata: EventMetadata = {
      service_name: this.service.name,
      service_version: this.service.version,
    };
    if (context.userId) metadata.user_id = context.userId;
    if (context.traceparent) metadata.traceparent = context.traceparent;
    if (context.correlationId) metadata.correlation_id = context.correlationId;
    const aggregate =
      fields.aggregate_id ??
      ('execution_id' in fields ? String(fields.execution_id) : undefined) ??
      randomUUID();
    return {
      ...fields,
      event_id: context.causedBy
        ? uuidV5(`${context.causedBy}:${fields.event_type}`, DERIVED_EVENT_NAMESPACE)
        : randomUUID(),
      event_version: '1.0',
      timestamp: this.now().toISOString(),
      aggregate_id: aggregate,
      metadata,
    } as unknown as T;
  }

  /**
   * `writeAlongside` writes the record the event announces (a new execution, say) while the event is
   * being stored: the event reaches streams and the bus only once both are written, so no consumer
   * hears of a record it cannot read. Either failing fails the publish.
   */
  async publish(
    event: DomainEvent,
    options: { writeAlongside?: () => Promise<unknown> } = {},
  ): Promise<StoredEvent> {
    const [stored] = await Promise.all([this.store.append(event), options.writeAlongside?.()]);
    // Streams and the bus are independent once the event is stored: hand it to both at once, and
    // fail (so the caller retries) only after both have answered.
    const handOffs: Promise<unknown>[] = [];
    if ('execution_id' in event && !UNSTREAMED.has(event.event_type)) {
      const message: FanoutMessage = { seq: stored.seq, event: stored.event };
      handOffs.push(this.fanout.publish(executionChannel(event.execution_id), JSON.stringify(message)));
    }
    if (!STREAM_ONLY.has(event.event_type)) handOffs.push(this.bus.publish(stored.event));
    for (const outcome of await Promise.allSettled(handOffs)) {
      if (outcome.status === 'rejected') throw outcome.reason;
    }
    return stored;
  }
}
