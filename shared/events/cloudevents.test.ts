import { CloudEvent, HTTP } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { decodeHeaderValue, encodeHeaderValue, parseCloudEvent, toBinaryRequest } from './cloudevents';
import {
  executionCompleted,
  executionRequested,
  notificationCreated,
  podCreated,
  userLoggedIn,
} from './sample-events';
import type { DomainEvent } from './schemas';

const URL = 'http://run-pod.local/';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** A copy of `toBinaryRequest(event)` with headers changed and optionally another body. */
function alteredBinary(event: DomainEvent, change: (headers: Headers) => void, body?: string): Request {
  const original = toBinaryRequest(event, URL);
  const headers = new Headers(original.headers);
  change(headers);
  return new Request(URL, { method: 'POST', headers, body: body ?? JSON.stringify(event) });
}

function structured(
  envelope: Record<string, unknown>,
  contentType = 'application/cloudevents+json',
): Request {
  return new Request(URL, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: JSON.stringify(envelope),
  });
}

function structuredEnvelope(event: DomainEvent): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: event.event_id,
    type: event.event_type,
    source: '/integr8scode/submit',
    datacontenttype: 'application/json',
    data: event,
  };
}

describe('toBinaryRequest', () => {
  it('puts the CloudEvent attributes in ce-* headers and the whole event in the body', async () => {
    const event = executionRequested(undefined, TRACEPARENT);
    const request = toBinaryRequest(event, URL);

    expect(request.method).toBe('POST');
    expect(request.url).toBe(URL);
    expect(Object.fromEntries(request.headers)).toEqual({
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': event.event_id,
      'ce-type': 'execution_requested',
      'ce-source': '/integr8scode/submit',
      'ce-subject': event.aggregate_id,
      'ce-time': event.timestamp,
      'ce-partitionkey': event.aggregate_id,
      traceparent: TRACEPARENT,
    });
    expect(JSON.parse(await request.text())).toEqual(event);
  });

  it('sends no traceparent header when the event carries none', () => {
    expect(toBinaryRequest(podCreated(), URL).headers.has('traceparent')).toBe(false);
  });

  it('percent-encodes header values the HTTP binding does not allow verbatim', () => {
    const event = { ...podCreated(), aggregate_id: 'run 100% "ü"' };
    const request = toBinaryRequest(event, URL);
    expect(request.headers.get('ce-partitionkey')).toBe('run%20100%25%20%22%C3%BC%22');
  });
});

describe('parseCloudEvent', () => {
  it.each([
    ['execution_requested', () => executionRequested(undefined, TRACEPARENT)],
    ['pod_created', () => podCreated()],
    ['execution_completed', () => executionCompleted()],
    ['user_logged_in', () => userLoggedIn()],
    ['notification_created', () => notificationCreated()],
  ])('reads back a binary-mode %s event unchanged', async (_type, make) => {
    const event = make();
    const parsed = await parseCloudEvent(toBinaryRequest(event, URL));
    expect(parsed).toEqual({
      ok: true,
      event,
      ...(event.metadata.traceparent ? { traceparent: event.metadata.traceparent } : {}),
    });
  });

  it('round-trips percent-encoded attributes', async () => {
    const event = { ...podCreated(), aggregate_id: 'run 100% "ü"' };
    const parsed = await parseCloudEvent(toBinaryRequest(event, URL));
    expect(parsed).toEqual({ ok: true, event });
  });

  it('reads structured mode, with data in "data" and traceparent as an attribute', async () => {
    const event = podCreated();
    const parsed = await parseCloudEvent(
      structured(
        { ...structuredEnvelope(event), traceparent: TRACEPARENT },
        'application/cloudevents+json; charset=UTF-8',
      ),
    );
    expect(parsed).toEqual({ ok: true, event, traceparent: TRACEPARENT });
  });

  it('accepts a charset on the binary content type and quoted header values', async () => {
    const event = podCreated();
    const request = alteredBinary(event, (headers) => {
      headers.set('content-type', 'application/json; charset=utf-8');
      headers.set('ce-source', '"/integr8scode/submit"');
    });
    expect(await parseCloudEvent(request)).toEqual({ ok: true, event });
  });

  describe('interoperates with the CloudEvents SDK', () => {
    it('the SDK reads what toBinaryRequest sends', async () => {
      const event = executionRequested(undefined, TRACEPARENT);
      const request = toBinaryRequest(event, URL);
      const received = HTTP.toEvent({
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
      });
      expect(Array.isArray(received)).toBe(false);
      const ce = received as CloudEvent<DomainEvent>;
      expect(ce.validate()).toBe(true);
      expect({ id: ce.id, type: ce.type, source: ce.source, subject: ce.subject }).toEqual({
        id: event.event_id,
        type: event.event_type,
        source: '/integr8scode/submit',
        subject: event.aggregate_id,
      });
      expect(ce.partitionkey).toBe(event.aggregate_id);
      expect(ce.data).toEqual(event);
    });

    it.each([
      ['binary', HTTP.binary],
      ['structured', HTTP.structured],
    ])('parseCloudEvent reads an SDK %s message', async (_mode, encode) => {
      const event = executionCompleted();
      const message = encode(
        new CloudEvent({
          id: event.event_id,
          type: event.event_type,
          source: '/integr8scode/monitor',
          datacontenttype: 'application/json',
          data: event,
        }),
      );
      const request = new Request(URL, {
        method: 'POST',
        headers: message.headers as Record<string, string>,
        body: message.body as string,
      });
      expect(await parseCloudEvent(request)).toEqual({ ok: true, event });
    });
  });

  describe('rejects, saying what is wrong,', () => {
    const event = podCreated();
    const { pod_name: _dropped, ...withoutPodName } = event;
    const cases: [string, () => Request, 400 | 415, RegExp][] = [
      [
        'a request that is no CloudEvent',
        () =>
          new Request(URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
        400,
        /no ce-specversion header/,
      ],
      [
        'a missing ce-id',
        () => alteredBinary(event, (h) => h.delete('ce-id')),
        400,
        /missing required attribute\(s\): id$/,
      ],
      [
        'missing ce-type and ce-source',
        () =>
          alteredBinary(event, (h) => {
            h.delete('ce-type');
            h.delete('ce-source');
          }),
        400,
        /missing required attribute\(s\): type, source$/,
      ],
      [
        'a wrong specversion',
        () => alteredBinary(event, (h) => h.set('ce-specversion', '0.3')),
        400,
        /unsupported specversion "0\.3"; expected "1\.0"/,
      ],
      [
        'a body that is not JSON',
        () => alteredBinary(event, () => {}, '{"event_id": '),
        400,
        /not valid JSON/,
      ],
      ['an empty body', () => alteredBinary(event, () => {}, ''), 400, /body is empty/],
      [
        'a non-JSON binary content type',
        () => alteredBinary(event, (h) => h.set('content-type', 'text/plain')),
        415,
        /must be application\/json, got content-type "text\/plain"/,
      ],
      [
        'a ce-type that differs from event_type',
        () => alteredBinary(event, (h) => h.set('ce-type', 'execution_started')),
        400,
        /type "execution_started" does not match the event's event_type "pod_created"/,
      ],
      [
        'a ce-id that differs from event_id',
        () => alteredBinary(event, (h) => h.set('ce-id', 'other-id')),
        400,
        /id "other-id" does not match the event's event_id/,
      ],
      [
        'data missing a field',
        () => alteredBinary(event, () => {}, JSON.stringify(withoutPodName)),
        400,
        /event data is invalid: pod_name: Invalid key/,
      ],
      [
        'data with a field of the wrong type',
        () => alteredBinary(event, () => {}, JSON.stringify({ ...event, namespace: 7 })),
        400,
        /namespace: Invalid type: Expected string but received 7/,
      ],
      [
        'an unknown event type',
        () =>
          alteredBinary(
            event,
            (h) => h.set('ce-type', 'pod_exploded'),
            JSON.stringify({ ...event, event_type: 'pod_exploded' }),
          ),
        400,
        /event_type: Invalid type: .* but received "pod_exploded"/,
      ],
      [
        'a header that is not valid percent-encoding',
        () => alteredBinary(event, (h) => h.set('ce-id', '%E0%A4%A')),
        400,
        /header ce-id is not valid percent-encoded UTF-8/,
      ],
      [
        'structured mode without data',
        () => structured({ ...structuredEnvelope(event), data: undefined }),
        400,
        /no "data" attribute/,
      ],
      [
        'structured mode with a wrong specversion',
        () => structured({ ...structuredEnvelope(event), specversion: '0.3' }),
        400,
        /unsupported specversion "0\.3"/,
      ],
      ['structured mode that is not an object', () => structured([] as never), 400, /must be a JSON object/],
      [
        'structured mode in another format',
        () => structured(structuredEnvelope(event), 'application/cloudevents+xml'),
        415,
        /supported only as application\/cloudevents\+json/,
      ],
      [
        'structured mode with base64 data',
        () => structured({ ...structuredEnvelope(event), data: undefined, data_base64: 'e30=' }),
        415,
        /data_base64 is not supported/,
      ],
      [
        'a batch',
        () => structured([structuredEnvelope(event)] as never, 'application/cloudevents-batch+json'),
        415,
        /batched CloudEvents are not supported/,
      ],
    ];

    it.each(cases)('%s', async (_name, makeRequest, status, message) => {
      const parsed = await parseCloudEvent(makeRequest());
      expect(parsed.ok).toBe(false);
      if (parsed.ok) return;
      expect(parsed.status).toBe(status);
      expect(parsed.error).toMatch(message);
    });
  });

  it('answers 400 instead of throwing when the body cannot be read', async () => {
    const body = new ReadableStream({
      pull(controller) {
        controller.error(new Error('connection reset'));
      },
    });
    const request = new Request(URL, {
      method: 'POST',
      headers: { 'ce-specversion': '1.0', 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(await parseCloudEvent(request)).toEqual({
      ok: false,
      status: 400,
      error: 'could not read the request body: connection reset',
    });
  });
});

describe('header value encoding', () => {
  it.each(['plain-id_1.2', 'with space', '100%', 'quote "x"', 'ünïcödé ✓', 'tab\there'])(
    'decodes what it encodes: %s',
    (value) => {
      const encoded = encodeHeaderValue(value);
      expect(encoded).toMatch(/^[\x21-\x7e]*$/);
      expect(decodeHeaderValue(encoded)).toBe(value);
    },
  );
});
