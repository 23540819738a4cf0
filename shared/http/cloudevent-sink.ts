/**
 * The CloudEvent entry (`POST /`) of every event-triggered function. Its answers speak KafkaSource's
 * language: 2xx when the work is done (or was done before), 400/415/422 for events that can never
 * succeed (straight to the dead-letter queue), 503 for failures worth retrying. Besides domain events, a
 * function may take CloudEvents of other sources (Knative's ApiServerSource) by their type.
 */
import type { Context } from 'hono';
import { CLOUDEVENTS_SPEC_VERSION, decodeHeaderValue, parseCloudEvent } from '../events/cloudevents';
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

/** A CloudEvent from outside the platform: its attributes, and its data as JSON, not a domain event. */
export interface ExternalCloudEvent {
  id: string;
  type: string;
  source: string;
  subject?: string;
  data: unknown;
}

/** Handlers of CloudEvents that other sources emit, by CloudEvent type (e.g. `dev.knative.apiserver.resource.add`). */
export type ExternalHandlers = Record<string, (event: ExternalCloudEvent, ctx: SinkContext) => Promise<void>>;

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
  externalHandlers?: ExternalHandlers;
}): (c: Context) => Promise<Response> {
  const { name, kv, handlers } = options;
  const log = options.log.child({ sink: name });

  /** Runs a handler once per event id; failures answered as for domain events. */
  async function handleOnce(
    c: Context,
    fields: { event_id: string; event_type: string },
    handle: () => Promise<void>,
  ): Promise<Response> {
    const key = processedKey(name, fields.event_id);
    try {
      if ((await kv.get(key)) !== null) return c.json({ status: 'duplicate' });
      // Two concurrent deliveries of one event can both get here; handlers are idempotent for that reason.
      await handle();
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
      return c.json({ detail: `${name} failed on ${fields.event_type} ${fields.event_id}: ${message}` }, 503);
    }
  }

  return async (c) => {
    const externalType = await externalTypeOf(c.req.raw, options.externalHandlers);
    if (externalType) {
      const read = await readExternalCloudEvent(c.req.raw);
      if (!read.ok) {
        log.warn('rejected a malformed CloudEvent', { status: read.status, error: read.error });
        return c.json({ detail: read.error }, read.status);
      }
      const { event } = read;
      const handler = options.externalHandlers![externalType]!;
      const traceparent = c.req.header('traceparent');
      // Keyed by source too: ids are unique only within a source.
      const fields = { event_id: `${event.source}#${event.id}`, event_type: event.type };
      return handleOnce(c, fields, () => handler(event, traceparent ? { traceparent } : {}));
    }
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
    return handleOnce(c, fields, () => handler(event, traceparent ? { traceparent } : {}));
  };
}

const STRUCTURED = 'application/cloudevents+json';

/**
 * The type of a request's CloudEvent when an external handler takes it; undefined otherwise (a domain event,
 * or garbage for parseCloudEvent to answer). Reads a clone's body only in structured mode.
 */
async function externalTypeOf(
  request: Request,
  handlers: ExternalHandlers | undefined,
): Promise<string | undefined> {
  if (!handlers) return undefined;
  const contentType = request.headers.get('content-type')?.toLowerCase() ?? '';
  let type: unknown;
  if (contentType.startsWith(STRUCTURED)) {
    try {
      type = (JSON.parse(await request.clone().text()) as { type?: unknown } | null)?.type;
    } catch {
      return undefined;
    }
  } else {
    const header = request.headers.get('ce-type');
    type = header === null ? undefined : decodeHeaderValue(header);
  }
  return typeof type === 'string' && Object.hasOwn(handlers, type) ? type : undefined;
}

type ExternalRead = { ok: true; event: ExternalCloudEvent } | { ok: false; status: 400 | 415; error: string };

/** An external CloudEvent in binary or structured mode, with JSON data. */
async function readExternalCloudEvent(request: Request): Promise<ExternalRead> {
  const fail = (status: 400 | 415, error: string): ExternalRead => ({ ok: false, status, error });
  const contentType = request.headers.get('content-type')?.toLowerCase() ?? '';
  let attributes: Record<string, unknown>;
  let body: string;
  try {
    body = await request.text();
  } catch (error) {
    return fail(400, `could not read the request body: ${(error as Error).message}`);
  }
  const json = (text: string): { ok: true; value: unknown } | { ok: false } => {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return { ok: false };
    }
  };
  if (contentType.startsWith(STRUCTURED)) {
    const parsed = json(body);
    if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null)
      return fail(400, 'structured CloudEvent must be a JSON object');
    attributes = parsed.value as Record<string, unknown>;
  } else {
    if (!/^application\/(.+\+)?json\b/.test(contentType))
      return fail(415, `binary-mode data must be JSON, got content-type "${contentType || '(none)'}"`);
    const parsed = json(body);
    if (!parsed.ok) return fail(400, 'request body is not valid JSON');
    attributes = { data: parsed.value };
    for (const name of ['specversion', 'id', 'type', 'source', 'subject']) {
      const raw = request.headers.get(`ce-${name}`);
      if (raw !== null) attributes[name] = decodeHeaderValue(raw);
    }
  }
  if (attributes.specversion !== CLOUDEVENTS_SPEC_VERSION)
    return fail(400, `unsupported specversion "${String(attributes.specversion ?? '')}"`);
  const missing = ['id', 'type', 'source'].filter(
    (name) => typeof attributes[name] !== 'string' || !attributes[name],
  );
  if (missing.length > 0) return fail(400, `missing required attribute(s): ${missing.join(', ')}`);
  if (attributes.data === undefined) return fail(400, 'the CloudEvent has no data');
  return {
    ok: true,
    event: {
      id: attributes.id as string,
      type: attributes.type as string,
      source: attributes.source as string,
      ...(typeof attributes.subject === 'string' ? { subject: attributes.subject } : {}),
      data: attributes.data,
    },
  };
}
