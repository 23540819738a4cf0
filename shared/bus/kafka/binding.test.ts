import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { parseCloudEvent, toBinaryRequest } from '../../events/cloudevents';
import { executionRequested, podCreated } from '../../events/sample-events';
import {
  deadLetterExtensions,
  eventHeaders,
  recordToRequest,
  requestToHeaders,
  WRAPPED_EVENT_TYPE,
} from './binding';

const source = { name: 'run-pod', namespace: 'integr8scode' };
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** A consumed record as kafkajs hands it over: header values are Buffers. */
function consumed(
  value: string | null,
  headers: Record<string, string | string[]>,
  extra: { key?: Buffer | null } = {},
): KafkaMessage {
  const asBuffers = Object.fromEntries(
    Object.entries(headers).map(([name, v]) => [
      name,
      Array.isArray(v) ? v.map((item) => Buffer.from(item)) : Buffer.from(v),
    ]),
  );
  return {
    key: Buffer.from('exec-1'),
    value: value === null ? null : Buffer.from(value),
    timestamp: '1795795666699',
    attributes: 0,
    offset: '41',
    headers: asBuffers,
    ...extra,
  };
}

describe('Kafka binding', () => {
  it('writes every attribute as a ce_ header in plain UTF-8, and traceparent when the event has one', () => {
    const event = executionRequested(undefined, TRACEPARENT);
    expect(eventHeaders(event)).toEqual({
      ce_specversion: '1.0',
      ce_id: event.event_id,
      ce_type: 'execution_requested',
      ce_source: '/integr8scode/submit',
      ce_subject: event.aggregate_id,
      ce_time: event.timestamp,
      ce_partitionkey: event.aggregate_id,
      'content-type': 'application/json',
      traceparent: TRACEPARENT,
    });
    expect(eventHeaders(podCreated())).not.toHaveProperty('traceparent');
  });

  it('turns a record written by the bus into the same request the in-process bus sends', async () => {
    const event = executionRequested(undefined, TRACEPARENT);
    const record = consumed(JSON.stringify(event), eventHeaders(event));

    const request = recordToRequest(
      { topic: 'execution_requested', partition: 3, message: record },
      'http://run-pod.local/',
      source,
    );
    const reference = toBinaryRequest(event, 'http://run-pod.local/');

    expect(Object.fromEntries(request.headers)).toEqual(Object.fromEntries(reference.headers));
    const parsed = await parseCloudEvent(request);
    expect(parsed).toEqual({ ok: true, event, traceparent: TRACEPARENT });
  });

  it('percent-encodes header values for HTTP and decodes them back for Kafka', () => {
    const record = consumed('{}', {
      ce_specversion: '1.0',
      ce_id: 'id with spaces',
      ce_type: 'pod_created',
      ce_source: '/überall',
      'content-type': 'application/json',
      'x-private': 'dropped',
    });
    const request = recordToRequest({ topic: 't', partition: 0, message: record }, 'http://x.local/', source);

    expect(request.headers.get('ce-id')).toBe('id%20with%20spaces');
    expect(request.headers.get('ce-source')).toBe('/%C3%BCberall');
    expect(request.headers.get('x-private')).toBeNull();
    expect(requestToHeaders(request.headers)).toEqual({
      ce_specversion: '1.0',
      ce_id: 'id with spaces',
      ce_type: 'pod_created',
      ce_source: '/überall',
      'content-type': 'application/json',
    });
  });

  it('wraps a record without ce_ headers as KafkaSource does, and our sinks refuse it with 400', async () => {
    const record = consumed('hello', { 'content-type': 'text/plain', 'X-Trace_ID': 'abc' });
    const request = recordToRequest(
      { topic: 'pod_created', partition: 2, message: record },
      'http://x.local/',
      source,
    );

    expect(Object.fromEntries(request.headers)).toEqual({
      'ce-specversion': '1.0',
      'ce-type': WRAPPED_EVENT_TYPE,
      'ce-source': '/apis/v1/namespaces/integr8scode/kafkasources/run-pod#pod_created',
      'ce-subject': 'partition:2#41',
      'ce-id': 'partition:2/offset:41',
      'ce-time': new Date(1795795666699).toISOString(),
      'ce-key': 'exec-1',
      'ce-partitionkey': 'exec-1',
      'ce-kafkaheaderxtraceid': 'abc',
      'content-type': 'text/plain',
    });
    expect(await request.text()).toBe('hello');
    const parsed = await parseCloudEvent(
      recordToRequest({ topic: 'pod_created', partition: 2, message: record }, 'http://x.local/', source),
    );
    expect(parsed).toMatchObject({ ok: false });
  });

  it('passes a structured CloudEvent record on as it is', async () => {
    const event = podCreated();
    const envelope = {
      specversion: '1.0',
      id: event.event_id,
      type: event.event_type,
      source: '/integr8scode/submit',
      datacontenttype: 'application/json',
      data: event,
    };
    const record = consumed(JSON.stringify(envelope), { 'content-type': 'application/cloudevents+json' });

    const parsed = await parseCloudEvent(
      recordToRequest({ topic: 'pod_created', partition: 0, message: record }, 'http://x.local/', source),
    );

    expect(parsed).toEqual({ ok: true, event });
  });

  it('sends a tombstone (no value) without a body', async () => {
    const record = consumed(null, {});
    const request = recordToRequest({ topic: 't', partition: 0, message: record }, 'http://x.local/', source);
    expect(await request.text()).toBe('');
  });

  it('describes a failed delivery with Knative error extensions, the body base64 and at most 1024 bytes', () => {
    const extensions = deadLetterExtensions({
      url: 'http://run-pod.local/',
      status: 422,
      body: 'x'.repeat(2000),
    });
    expect(extensions.ce_knativeerrordest).toBe('http://run-pod.local/');
    expect(extensions.ce_knativeerrorcode).toBe('422');
    expect(Buffer.from(extensions.ce_knativeerrordata!, 'base64').toString()).toBe('x'.repeat(1024));
    expect(deadLetterExtensions({ url: 'http://a/' })).toEqual({ ce_knativeerrordest: 'http://a/' });
  });
});
