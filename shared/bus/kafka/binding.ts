/**
 * The CloudEvents Kafka protocol binding (binary mode) and what a KafkaSource dispatcher makes of a
 * record. Kafka header values are plain UTF-8; percent-encoding belongs to the HTTP binding only, so it
 * happens here when a record turns into a request and is undone when a request turns back into headers.
 */
import type { IHeaders, KafkaMessage } from 'kafkajs';
import {
  CLOUDEVENTS_SPEC_VERSION,
  decodeHeaderValue,
  encodeHeaderValue,
  eventSource,
} from '../../events/cloudevents';
import type { DomainEvent } from '../../events/schemas';

/** The type KafkaSource gives a record that is not a CloudEvent; our sinks answer it with 400. */
export const WRAPPED_EVENT_TYPE = 'dev.knative.kafka.event';

const CE_PREFIX = 'ce_';
const STRUCTURED = 'application/cloudevents';
/** Headers besides `ce_*` that travel with a binary-mode CloudEvent. */
const PASSED_HEADERS = ['content-type', 'traceparent', 'tracestate'] as const;

/** Kafka-binding headers for an event: attributes as `ce_*`, the data's media type as `content-type`. */
export function eventHeaders(event: DomainEvent): Record<string, string> {
  const headers: Record<string, string> = {
    ce_specversion: CLOUDEVENTS_SPEC_VERSION,
    ce_id: event.event_id,
    ce_type: event.event_type,
    ce_source: eventSource(event.metadata.service_name),
    ce_subject: event.aggregate_id,
    ce_time: event.timestamp,
    // The record key carries the same value; the extension keeps it visible after a KafkaSink round trip.
    ce_partitionkey: event.aggregate_id,
    'content-type': 'application/json',
  };
  if (event.metadata.traceparent) headers.traceparent = event.metadata.traceparent;
  return headers;
}

/** A consumed record and where it came from. */
export interface SourceRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/** Names the KafkaSource in the `source` of wrapped records. */
export interface SourceIdentity {
  name: string;
  namespace: string;
}

/** A record's headers as strings (the first value of a repeated header), names lower-cased. */
export function headerStrings(headers: IHeaders | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined) continue;
    const key = name.toLowerCase();
    if (!out.has(key)) out.set(key, typeof value === 'string' ? value : value.toString('utf8'));
  }
  return out;
}

/**
 * The HTTP request a KafkaSource dispatcher POSTs for a record: a binary-mode CloudEvent taken from the
 * `ce_*` headers, a structured CloudEvent as it is, and anything else wrapped as `dev.knative.kafka.event`.
 */
export function recordToRequest(
  record: SourceRecord,
  url: string,
  source: SourceIdentity,
  signal?: AbortSignal,
): Request {
  const kafkaHeaders = headerStrings(record.message.headers);
  const headers = new Headers();
  const contentType = kafkaHeaders.get('content-type');
  if (kafkaHeaders.has('ce_specversion')) {
    for (const [name, value] of kafkaHeaders) {
      if (name.startsWith(CE_PREFIX))
        headers.set(`ce-${name.slice(CE_PREFIX.length)}`, encodeHeaderValue(value));
      else if ((PASSED_HEADERS as readonly string[]).includes(name)) headers.set(name, value);
    }
  } else if (contentType?.toLowerCase().startsWith(STRUCTURED)) {
    headers.set('content-type', contentType);
  } else {
    wrap(record, kafkaHeaders, source, headers);
  }
  const value = record.message.value;
  const init: RequestInit = { method: 'POST', headers };
  if (value !== null && value.length > 0) init.body = new Uint8Array(value);
  if (signal) init.signal = signal;
  return new Request(url, init);
}

/** KafkaSource's envelope for a plain record: the offset names it, the key and headers become extensions. */
function wrap(
  record: SourceRecord,
  kafkaHeaders: Map<string, string>,
  source: SourceIdentity,
  headers: Headers,
): void {
  const { topic, partition, message } = record;
  headers.set('ce-specversion', CLOUDEVENTS_SPEC_VERSION);
  headers.set('ce-type', WRAPPED_EVENT_TYPE);
  headers.set(
    'ce-source',
    encodeHeaderValue(`/apis/v1/namespaces/${source.namespace}/kafkasources/${source.name}#${topic}`),
  );
  headers.set('ce-subject', encodeHeaderValue(`partition:${partition}#${message.offset}`));
  headers.set('ce-id', encodeHeaderValue(`partition:${partition}/offset:${message.offset}`));
  const millis = Number(message.timestamp);
  if (Number.isFinite(millis)) headers.set('ce-time', new Date(millis).toISOString());
  if (message.key !== null && message.key !== undefined) {
    const key = encodeHeaderValue(message.key.toString('utf8'));
    headers.set('ce-key', key);
    headers.set('ce-partitionkey', key);
  }
  for (const [name, value] of kafkaHeaders) {
    if (name === 'content-type') {
      headers.set('content-type', value);
      continue;
    }
    const extension = `kafkaheader${name.replace(/[^a-z0-9]/g, '')}`;
    headers.set(`ce-${extension}`, encodeHeaderValue(value));
  }
}

/**
 * The Kafka-binding headers of a CloudEvent that was POSTed in binary mode: what a KafkaSink in binary
 * content mode writes when that request reaches it (the dead-letter sink is one).
 */
export function requestToHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.startsWith('ce-')) out[`${CE_PREFIX}${name.slice(3)}`] = decodeHeaderValue(value) ?? value;
    else if ((PASSED_HEADERS as readonly string[]).includes(name)) out[name] = value;
  });
  return out;
}

/** Knative's dead-letter extensions: where delivery failed, the last status and (base64) the answer's body. */
export function deadLetterExtensions(failure: {
  url: string;
  status?: number;
  body?: string;
}): Record<string, string> {
  const out: Record<string, string> = { ce_knativeerrordest: failure.url };
  if (failure.status !== undefined) out.ce_knativeerrorcode = String(failure.status);
  if (failure.body) {
    out.ce_knativeerrordata = Buffer.from(failure.body, 'utf8').subarray(0, 1024).toString('base64');
  }
  return out;
}
