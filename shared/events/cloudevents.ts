/**
 * Domain events as CloudEvents 1.0 over HTTP. Knative dispatchers POST in binary mode (attributes in
 * `ce-*` headers, the event JSON as body); structured mode (`application/cloudevents+json`) is accepted too.
 *
 * The `cloudevents` SDK is used only in the tests, as an interoperability oracle. At run time it does not
 * fit: it is CommonJS that needs `util`/`process` shims (an ESM esbuild bundle fails with "Dynamic require
 * of util"), pulls ajv into every function bundle, skips the required-attribute checks when parsing,
 * parses JSON only for a few exact content-type spellings, does not percent-decode header values, and
 * throws generic errors where a sink must answer with a precise 400/415.
 */
import { type DomainEvent, safeParseDomainEvent } from './schemas';

export const CLOUDEVENTS_SPEC_VERSION = '1.0';
const STRUCTURED_JSON = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch';
const utf8 = new TextEncoder();

export const eventSource = (serviceName: string): string => `/integr8scode/${serviceName}`;

export type ParsedCloudEvent =
  | { ok: true; event: DomainEvent; traceparent?: string }
  | { ok: false; status: 400 | 415; error: string };

/** A binary-mode POST of `event` to `url`; the partition key is the aggregate, as the Kafka record key is. */
export function toBinaryRequest(event: DomainEvent, url: string): Request {
  const headers = new Headers({
    'content-type': 'application/json',
    'ce-specversion': CLOUDEVENTS_SPEC_VERSION,
    'ce-id': encodeHeaderValue(event.event_id),
    'ce-type': event.event_type,
    'ce-source': encodeHeaderValue(eventSource(event.metadata.service_name)),
    'ce-subject': encodeHeaderValue(event.aggregate_id),
    'ce-time': event.timestamp,
    'ce-partitionkey': encodeHeaderValue(event.aggregate_id),
  });
  if (event.metadata.traceparent) headers.set('traceparent', event.metadata.traceparent);
  return new Request(url, { method: 'POST', headers, body: JSON.stringify(event) });
}

/** Reads a binary- or structured-mode CloudEvent carrying a domain event. Never throws. */
export async function parseCloudEvent(request: Request): Promise<ParsedCloudEvent> {
  let body: string;
  try {
    body = await request.text();
  } catch (error) {
    return fail(400, `could not read the request body: ${(error as Error).message}`);
  }
  const contentType = request.headers.get('content-type')?.trim().toLowerCase() ?? '';
  if (contentType.startsWith(BATCH))
    return fail(415, 'batched CloudEvents are not supported; send one event');
  const read = contentType.startsWith('application/cloudevents')
    ? readStructured(contentType, body)
    : readBinary(request.headers, contentType, body);
  if (!read.ok) return read;
  return checkEvent(
    read.attributes,
    read.data,
    request.headers.get('traceparent') ?? read.attributes.traceparent,
  );
}

interface Attributes {
  specversion?: string;
  id?: string;
  type?: string;
  source?: string;
  traceparent?: string;
}

type Read =
  | { ok: true; attributes: Attributes; data: unknown }
  | { ok: false; status: 400 | 415; error: string };

function readBinary(headers: Headers, contentType: string, body: string): Read {
  const attributes: Attributes = {};
  for (const name of ['specversion', 'id', 'type', 'source', 'traceparent'] as const) {
    const raw = headers.get(`ce-${name}`);
    if (raw === null) continue;
    const value = decodeHeaderValue(raw);
    if (value === null) return fail(400, `header ce-${name} is not valid percent-encoded UTF-8`);
    attributes[name] = value;
  }
  if (attributes.specversion === undefined) {
    return fail(
      400,
      `not a CloudEvent: no ce-specversion header (binary mode) and content-type is not ${STRUCTURED_JSON}`,
    );
  }
  if (!isJson(contentType)) {
    return fail(
      415,
      `binary-mode data must be application/json, got content-type "${contentType || '(none)'}"`,
    );
  }
  const data = parseJson(body);
  if (!data.ok) return data;
  return { ok: true, attributes, data: data.value };
}

function readStructured(contentType: string, body: string): Read {
  if (!contentType.startsWith(STRUCTURED_JSON) || !hasUtf8Charset(contentType)) {
    return fail(415, `structured mode is supported only as ${STRUCTURED_JSON}, got "${contentType}"`);
  }
  const parsed = parseJson(body);
  if (!parsed.ok) return parsed;
  const envelope = parsed.value;
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    return fail(400, 'structured CloudEvent must be a JSON object');
  }
  const fields = envelope as Record<string, unknown>;
  const attributes: Attributes = {};
  for (const name of ['specversion', 'id', 'type', 'source', 'traceparent'] as const) {
    const value = fields[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') return fail(400, `attribute "${name}" must be a string`);
    attributes[name] = value;
  }
  if (fields.datacontenttype !== undefined && !isJson(String(fields.datacontenttype).toLowerCase())) {
    return fail(415, `datacontenttype must be application/json, got "${String(fields.datacontenttype)}"`);
  }
  if (fields.data_base64 !== undefined)
    return fail(415, 'data_base64 is not supported; send the event as JSON in "data"');
  if (fields.data === undefined) return fail(400, 'structured CloudEvent has no "data" attribute');
  return { ok: true, attributes, data: fields.data };
}

function checkEvent(
  attributes: Attributes,
  data: unknown,
  traceparent: string | undefined,
): ParsedCloudEvent {
  const { specversion, id, type } = attributes;
  if (specversion !== CLOUDEVENTS_SPEC_VERSION) {
    return fail(
      400,
      `unsupported specversion "${specversion ?? ''}"; expected "${CLOUDEVENTS_SPEC_VERSION}"`,
    );
  }
  const missing = (['id', 'type', 'source'] as const).filter((name) => !attributes[name]);
  if (missing.length > 0) return fail(400, `missing required attribute(s): ${missing.join(', ')}`);
  const result = safeParseDomainEvent(data);
  if (!result.ok) return fail(400, `event data is invalid: ${oneLine(result.issues)}`);
  const { event } = result;
  if (type !== event.event_type) {
    return fail(400, `CloudEvent type "${type}" does not match the event's event_type "${event.event_type}"`);
  }
  if (id !== event.event_id) {
    return fail(400, `CloudEvent id "${id}" does not match the event's event_id "${event.event_id}"`);
  }
  return traceparent ? { ok: true, event, traceparent } : { ok: true, event };
}

/** Valibot's summary ("× message\n  → at path" per issue) as "path: message; …". */
function oneLine(summary: string): string {
  return summary
    .split(/\n(?=× )/)
    .map((issue) => {
      const [message, path] = issue.replace(/^× /, '').split(/\n\s*→ at /);
      return path ? `${path}: ${message}` : message;
    })
    .join('; ');
}

function parseJson(body: string): { ok: true; value: unknown } | { ok: false; status: 400; error: string } {
  if (body.trim() === '') return fail(400, 'request body is empty; expected the event as JSON');
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (error) {
    return fail(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** `application/json` or any `+json` media type, in UTF-8. */
function isJson(contentType: string): boolean {
  const mediaType = contentType.split(';', 1)[0]?.trim() ?? '';
  return (mediaType === 'application/json' || mediaType.endsWith('+json')) && hasUtf8Charset(contentType);
}

function hasUtf8Charset(contentType: string): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/.exec(contentType)?.[1];
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

function fail<S extends 400 | 415>(status: S, error: string): { ok: false; status: S; error: string } {
  return { ok: false, status, error };
}

/** The HTTP binding's header encoding: space, `"`, `%` and anything outside printable ASCII are percent-encoded. */
export function encodeHeaderValue(value: string): string {
  let encoded = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code > 0x20 && code < 0x7f && char !== '"' && char !== '%') {
      encoded += char;
      continue;
    }
    for (const byte of utf8.encode(char)) encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** Undoes `encodeHeaderValue` (after removing optional surrounding quotes); null for invalid UTF-8. */
export function decodeHeaderValue(value: string): string | null {
  const unquoted =
    value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  try {
    return decodeURIComponent(unquoted);
  } catch {
    return null;
  }
}
