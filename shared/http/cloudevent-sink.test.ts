import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { InProcessBus } from '../bus/in-process';
import { toBinaryRequest } from '../events/cloudevents';
import { executionRequested, podCreated, userLoggedIn } from '../events/sample-events';
import type { EventOf } from '../events/schemas';
import type { KeyValueStore } from '../kv/port';
import { SqliteKeyValueStore } from '../kv/sqlite';
import { createLogger, type Logger } from '../log';
import { openSqliteStore } from '../store/sqlite';
import {
  cloudEventSink,
  PermanentEventError,
  processedKey,
  type SinkContext,
  type SinkHandlers,
} from './cloudevent-sink';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/** The real embedded store, noting the TTL each key was set with. */
class RecordingKeyValueStore extends SqliteKeyValueStore {
  readonly ttls = new Map<string, number | undefined>();

  override async set(key: string, value: string, options?: { ttlMs?: number; onlyIfAbsent?: boolean }) {
    this.ttls.set(key, options?.ttlMs);
    return super.set(key, value, options);
  }
}

let openStores: KeyValueStore[] = [];
function openKv<T extends KeyValueStore>(make: () => T): T {
  const kv = make();
  openStores.push(kv);
  return kv;
}
const memoryKv = () => openKv(() => new RecordingKeyValueStore(':memory:'));

afterEach(async () => {
  await Promise.all(openStores.map((kv) => kv.close()));
  openStores = [];
});

function recordingLogger(): Logger & { errors: { msg: string; fields?: Record<string, unknown> }[] } {
  const errors: { msg: string; fields?: Record<string, unknown> }[] = [];
  const logger = {
    errors,
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (msg: string, fields?: Record<string, unknown>) => errors.push({ msg, fields }),
    child: () => logger,
  };
  return logger;
}

function sinkApp(
  handlers: SinkHandlers,
  kv: KeyValueStore = memoryKv(),
  log: Logger = createLogger('silent'),
) {
  const app = new Hono();
  app.post('/', cloudEventSink({ name: 'run-pod', kv, log, handlers }));
  return app;
}

const post = (app: Hono, request: Request) => app.fetch(request);

describe('cloudEventSink', () => {
  it('hands the event and its traceparent to the handler and records it as processed', async () => {
    const kv = memoryKv();
    const seen: { event: EventOf<'execution_requested'>; ctx: SinkContext }[] = [];
    const app = sinkApp({ execution_requested: async (event, ctx) => void seen.push({ event, ctx }) }, kv);
    const event = executionRequested(undefined, TRACEPARENT);

    const response = await post(app, toBinaryRequest(event, 'http://run-pod.local/'));

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'processed' });
    expect(seen).toEqual([{ event, ctx: { traceparent: TRACEPARENT } }]);
    expect(await kv.get(processedKey('run-pod', event.event_id))).not.toBeNull();
    expect(kv.ttls.get(processedKey('run-pod', event.event_id))).toBe(WEEK_MS);
    expect(processedKey('run-pod', event.event_id)).toBe(`processed:run-pod:${event.event_id}`);
  });

  it('answers a redelivered event as a duplicate without running the handler again', async () => {
    let runs = 0;
    const app = sinkApp({ pod_created: async () => void runs++ });
    const event = podCreated();

    const first = await post(app, toBinaryRequest(event, 'http://run-pod.local/'));
    const second = await post(app, toBinaryRequest(event, 'http://run-pod.local/'));

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ status: 'duplicate' });
    expect(runs).toBe(1);
  });

  it('passes on the parser’s 400 and 415 with a detail', async () => {
    const app = sinkApp({ pod_created: async () => {} });
    const event = podCreated();
    const wrongType = toBinaryRequest(event, 'http://run-pod.local/');
    wrongType.headers.set('ce-type', 'execution_started');
    const plainText = new Request('http://run-pod.local/', {
      method: 'POST',
      headers: { 'ce-specversion': '1.0', 'content-type': 'text/plain' },
      body: 'hello',
    });

    const mismatch = await post(app, wrongType);
    const unsupported = await post(app, plainText);

    expect(mismatch.status).toBe(400);
    expect(await mismatch.json()).toEqual({
      detail: expect.stringMatching(/"execution_started" does not match/),
    });
    expect(unsupported.status).toBe(415);
    expect(await unsupported.json()).toEqual({ detail: expect.stringMatching(/must be application\/json/) });
  });

  it('answers 400 for an event whose timestamp Date cannot read, without running the handler', async () => {
    let runs = 0;
    const app = sinkApp({ pod_created: async () => void runs++ });

    const response = await post(
      app,
      toBinaryRequest({ ...podCreated(), timestamp: '2024-01-01T00:00:00+05' }, 'http://run-pod.local/'),
    );

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: expect.stringMatching(/timestamp/) });
    expect(runs).toBe(0);
  });

  it('answers 400 for an event type it has no handler for', async () => {
    const app = sinkApp({ pod_created: async () => {} });

    const response = await post(app, toBinaryRequest(userLoggedIn(), 'http://run-pod.local/'));

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: 'run-pod does not handle user_logged_in' });
  });

  it('answers 422 for a PermanentEventError and does not mark the event processed', async () => {
    const kv = memoryKv();
    const app = sinkApp(
      {
        pod_created: async () => {
          throw new PermanentEventError('execution does not exist');
        },
      },
      kv,
    );
    const event = podCreated();

    const response = await post(app, toBinaryRequest(event, 'http://run-pod.local/'));

    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({ detail: 'execution does not exist' });
    expect(await kv.get(processedKey('run-pod', event.event_id))).toBeNull();
  });

  it('answers 503 for any other failure, logs it, and processes the event when it comes again', async () => {
    const log = recordingLogger();
    let failuresLeft = 1;
    let processed = 0;
    const app = sinkApp(
      {
        pod_created: async () => {
          if (failuresLeft-- > 0) throw new Error('store unavailable');
          processed++;
        },
      },
      memoryKv(),
      log,
    );
    const event = podCreated();

    const failed = await post(app, toBinaryRequest(event, 'http://run-pod.local/'));
    const retried = await post(app, toBinaryRequest(event, 'http://run-pod.local/'));

    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({
      detail: `run-pod failed on pod_created ${event.event_id}: store unavailable`,
    });
    expect(log.errors).toHaveLength(1);
    expect(log.errors[0]!.fields).toMatchObject({ event_id: event.event_id, error: expect.any(Error) });
    expect(retried.status).toBe(200);
    expect(processed).toBe(1);
  });

  it('answers 503 when the processed-marker store fails, so the event is retried', async () => {
    const kv = openKv(
      () =>
        new (class extends SqliteKeyValueStore {
          override async get(): Promise<string | null> {
            throw new Error('connection lost');
          }
        })(':memory:'),
    );
    const app = sinkApp({ pod_created: async () => {} }, kv);

    const response = await post(app, toBinaryRequest(podCreated(), 'http://run-pod.local/'));

    expect(response.status).toBe(503);
  });

  it('falls back to the traceparent in the event metadata when the delivery carries none', async () => {
    const contexts: SinkContext[] = [];
    const app = sinkApp({ execution_requested: async (_event, ctx) => void contexts.push(ctx) });
    const request = toBinaryRequest(executionRequested(undefined, TRACEPARENT), 'http://run-pod.local/');
    request.headers.delete('traceparent');

    await post(app, request);

    expect(contexts).toEqual([{ traceparent: TRACEPARENT }]);
  });

  it('types each handler with its own event', () => {
    expectTypeOf<Parameters<NonNullable<SinkHandlers['pod_created']>>[0]>().toEqualTypeOf<
      EventOf<'pod_created'>
    >();
    expectTypeOf<Parameters<NonNullable<SinkHandlers['user_logged_in']>>[0]>().toEqualTypeOf<
      EventOf<'user_logged_in'>
    >();
  });

  describe('over real HTTP', () => {
    let close: () => Promise<void> = async () => {};
    afterEach(() => close());

    it('processes a binary CloudEvent POSTed to a listening server', async () => {
      const received: string[] = [];
      const app = sinkApp({ pod_created: async (event) => void received.push(event.pod_name) });
      const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const listening = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
          resolve(listening),
        );
      });
      close = () => new Promise((resolve) => server.close(() => resolve()));
      const { port } = server.address() as AddressInfo;
      const event = podCreated();

      const response = await fetch(toBinaryRequest(event, `http://127.0.0.1:${port}/`));

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'processed' });
      expect(received).toEqual([event.pod_name]);
    });
  });

  describe('behind the in-process bus with the SQLite store', () => {
    let cleanup: () => Promise<void> = async () => {};
    afterEach(() => cleanup());

    it('acks, retries and dead-letters by the sink’s answers', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sink-'));
      const store = openSqliteStore(join(dir, 'store.db'));
      const bus = new InProcessBus({
        deadLetters: store.deadLetters,
        log: createLogger('silent'),
        policy: { retry: 3, backoffPolicy: 'exponential', backoffDelayMs: 5, timeoutMs: 1000 },
      });
      cleanup = async () => {
        await bus.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      };
      let transientFailures = 2;
      const handled: string[] = [];
      const app = sinkApp({
        execution_requested: async (event) => {
          if (transientFailures-- > 0) throw new Error('sandbox busy');
          handled.push(event.event_id);
        },
        pod_created: async () => {
          throw new PermanentEventError('pod belongs to no execution');
        },
      });
      bus.subscribe({
        name: 'run-pod',
        eventTypes: ['execution_requested', 'pod_created', 'user_logged_in'],
        deliver: async (request) => app.fetch(request),
      });
      const requested = executionRequested();
      const orphanPod = podCreated();
      const unexpected = userLoggedIn();

      for (const event of [requested, orphanPod, unexpected]) await bus.publish(event);
      await bus.drain();

      expect(handled).toEqual([requested.event_id]);
      const { items, total } = await store.deadLetters.list({ limit: 10, offset: 0 });
      expect(total).toBe(2);
      const byEvent = new Map(items.map((letter) => [letter.event_id, letter]));
      expect(byEvent.get(orphanPod.event_id)).toMatchObject({
        subscriber: 'run-pod',
        attempts: 1,
        error: 'HTTP 422 from run-pod: {"detail":"pod belongs to no execution"}',
        event: orphanPod,
      });
      expect(byEvent.get(unexpected.event_id)).toMatchObject({
        attempts: 1,
        error: 'HTTP 400 from run-pod: {"detail":"run-pod does not handle user_logged_in"}',
      });
    });
  });
});

describe('cloudEventSink with CloudEvents of other sources', () => {
  const TYPE = 'dev.knative.apiserver.resource.update';
  const external = (
    options: { id?: string; type?: string; data?: unknown; structured?: boolean; specversion?: string } = {},
  ) => {
    const attributes = {
      specversion: options.specversion ?? '1.0',
      id: options.id ?? 'a1',
      type: options.type ?? TYPE,
      source: 'https://10.96.0.1:443',
      subject: '/apis/v1/namespaces/ns/pods/p',
    };
    const data = options.data ?? { kind: 'Pod', metadata: { name: 'p' } };
    if (options.structured) {
      return new Request('http://monitor.local/', {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({ ...attributes, data }),
      });
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [name, value] of Object.entries(attributes)) headers[`ce-${name}`] = value;
    return new Request('http://monitor.local/', { method: 'POST', headers, body: JSON.stringify(data) });
  };
  const externalApp = (seen: unknown[], fail?: Error) => {
    const app = new Hono();
    app.post(
      '/',
      cloudEventSink({
        name: 'monitor',
        kv: memoryKv(),
        log: createLogger('silent'),
        handlers: { pod_created: async () => {} },
        externalHandlers: {
          [TYPE]: async (event) => {
            if (fail) throw fail;
            seen.push(event);
          },
        },
      }),
    );
    return app;
  };

  it('hands binary and structured events of a handled type to their handler, each id once', async () => {
    const seen: unknown[] = [];
    const app = externalApp(seen);
    expect(await (await post(app, external())).json()).toEqual({ status: 'processed' });
    expect(await (await post(app, external())).json()).toEqual({ status: 'duplicate' });
    expect((await post(app, external({ id: 'a2', structured: true }))).status).toBe(200);
    expect(seen).toEqual([
      {
        id: 'a1',
        type: TYPE,
        source: 'https://10.96.0.1:443',
        subject: '/apis/v1/namespaces/ns/pods/p',
        data: { kind: 'Pod', metadata: { name: 'p' } },
      },
      expect.objectContaining({ id: 'a2' }),
    ]);
  });

  it('still answers 4xx for other types, bad attributes and a handler that says never', async () => {
    const seen: unknown[] = [];
    expect(
      (await post(externalApp(seen), external({ type: 'dev.knative.apiserver.ref.update' }))).status,
    ).toBe(400);
    expect((await post(externalApp(seen), external({ specversion: '0.3' }))).status).toBe(400);
    const plain = external();
    plain.headers.set('content-type', 'text/plain');
    expect((await post(externalApp(seen), plain)).status).toBe(415);
    expect((await post(externalApp(seen, new PermanentEventError('not a Pod')), external())).status).toBe(
      422,
    );
    expect((await post(externalApp(seen, new Error('store down')), external())).status).toBe(503);
    expect(seen).toEqual([]);
  });
});
