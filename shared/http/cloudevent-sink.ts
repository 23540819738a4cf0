/**
 * The CloudEvent entry (`POST /`) of every event-triggered function. Its answers speak KafkaSource's
 * language: 2xx when the work is done (or was done before), 400/415/422 for events that can never
 * succeed (straight to the dead-letter queue), 503 for failures worth retrying.
 */
import type { Context } from 'hono';
import { parseCloudEvent } from '../events/cloudevents';
import type { DomainEvent, EventOf, EventType } from '../events/schemas';
import type { KeyValueStore } from '../kv/port';
import type { Logger } from '../log';

export interface SinkContext {
  /** W3C trace context of the delivery, or else of the request that caused the event. */
  traceparent?: string;
}

export type SinkHandler<T extends EventType> = (event: EventOf<T>, ctx: SinkContext) => Promise<void>;

/** One handler per event type the function consumes; each receives its own event type. */
export type SinkHandlers = { [T in EventType]?: SinkHandler<T> };

type AnyHandler = (event: DomainEvent, ctx: SinkContext) => Promise<void>;

/** Thrown by a handler for an event that can never be processed; it goes to the dead-letter queue. */
export class PermanentEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentEventError';
  }
}

/** Processed markers outlive any redelivery: KafkaSource retries for minutes, not days. */
const PROCESSED_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const processedKey = (sinkName: string, eventId: string): string => `processed:${sinkName}:${eventId}`;

export function cloudEventSink(options: {
  name: string;
  kv: KeyValueStore;
  log: Logger;
  handlers: SinkHandlers;
}): (c: Context) => Promise<Response> {
  const { name, kv, handlers } = options;
  const log = options.log.child({ sink: name });

  return async (c) => {
    const parsed = await parseCloudEvent(c.req.raw);
    if (!parsed.ok) {
      log.warn('rejected a malformed CloudEvent', { status: parsed.status, error: parsed.error });
      return c.json({ detail: parsed.error }, parsed.status);
    }
    const { event } = parsed;
    const fields = { event_id: event.event_id, event_type: event.event_type };
    // The map's type pairs each event type with its handler; the lookup by a runtime type cannot show that.
    const handler = handlers[event.event_type] as AnyHandler | undefined;
    if (!handler) {
      log.warn('received an event type it does not handle', fields);
      return c.json({ detail: `${name} does not handle ${event.event_type}` }, 400);
    }
    const traceparent = parsed.traceparent ?? event.metadata.traceparent;
    const key = processedKey(name, event.event_id);
    try {
      if ((await kv.get(key)) !== null) return c.json({ status: 'duplicate' });
      // Two concurrent deliveries of one event can both get here; handlers are idempotent for that reason.
      await handler(event, traceparent ? { traceparent } : {});
      // If this write fails the event is retried and handled again, which idempotent handlers absorb.
      await kv.set(key, new Date().toISOString(), { ttlMs: PROCESSED_TTL_MS });
      return c.json({ status: 'processed' });
    } catch (error) {
      if (error instanceof PermanentEventError) {
        log.warn('event cannot be processed', { ...fields, error: error.message });
        return c.json({ detail: error.message }, 422);
      }
      log.error('event handler failed; it will be retried', { ...fields, error });
      const message = error instanceof Error ? error.message : String(error);
      return c.json({ detail: `${name} failed on ${event.event_type} ${event.event_id}: ${message}` }, 503);
    }
  };
}
