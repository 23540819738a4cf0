/**
 * What every EventBus adapter must do (in-process now, Kafka later): KafkaSource's delivery rules,
 * per-aggregate ordering and dead letters. Sinks here parse each request as a real CloudEvent, so an
 * adapter that sends anything else fails too. Delays are small so the suite runs in a few seconds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCloudEvent } from '../events/cloudevents';
import { executionStarted, podCreated } from '../events/sample-events';
import type { DomainEvent, EventType } from '../events/schemas';
import type { DeadLetter, DeadLetterRepository, Page } from '../store/ports';
import type { DeliveryPolicy, EventBus, Subscription } from './port';

export type MakeBus = (
  deadLetters: DeadLetterRepository,
  policy: DeliveryPolicy,
) => Promise<{ bus: EventBus; subscribe(s: Subscription): void; close(): Promise<void> }>;

/** What a scripted sink does on one attempt: answer with a status, throw, or never answer. */
type Reply = number | 'throw' | 'hang';

interface Call {
  event: DomainEvent;
  attempt: number;
  at: number;
  url: string;
}

/** A sink that answers per a script and records every call it received. */
export class ScriptedSink implements Subscription {
  readonly calls: Call[] = [];
  readonly acked: { event: DomainEvent; at: number }[] = [];
  private readonly attemptsByEvent = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly eventTypes: readonly EventType[],
    private readonly script: (event: DomainEvent, attempt: number) => Reply | Promise<Reply> = () => 202,
  ) {}

  async deliver(request: Request): Promise<Response> {
    const parsed = await parseCloudEvent(request);
    if (!parsed.ok) return new Response(parsed.error, { status: parsed.status });
    const { event } = parsed;
    const attempt = this.attemptsByEvent.get(event.event_id) ?? 0;
    this.attemptsByEvent.set(event.event_id, attempt + 1);
    this.calls.push({ event, attempt, at: performance.now(), url: request.url });
    const reply = await this.script(event, attempt);
    if (reply === 'throw') throw new TypeError('fetch failed: connection refused');
    if (reply === 'hang') {
      return new Promise((_, reject) =>
        request.signal.addEventListener('abort', () => reject(request.signal.reason)),
      );
    }
    if (reply >= 200 && reply < 300) this.acked.push({ event, at: performance.now() });
    return new Response(reply >= 300 ? `sink says ${reply}` : null, { status: reply });
  }

  callIds(): string[] {
    return this.calls.map((call) => call.event.event_id);
  }

  /** Gaps in ms between consecutive attempts at one event. */
  gaps(eventId: string): number[] {
    const times = this.calls.filter((call) => call.event.event_id === eventId).map((call) => call.at);
    return times.slice(1).map((at, i) => at - times[i]!);
  }
}

export class MemoryDeadLetters implements DeadLetterRepository {
  readonly letters: DeadLetter[] = [];

  async add(letter: DeadLetter): Promise<void> {
    this.letters.push(letter);
  }

  async list(paging: { limit: number; offset: number }): Promise<Page<DeadLetter>> {
    return {
      items: this.letters.slice(paging.offset, paging.offset + paging.limit),
      total: this.letters.length,
    };
  }

  async get(deadLetterId: string): Promise<DeadLetter | null> {
    return this.letters.find((letter) => letter.dead_letter_id === deadLetterId) ?? null;
  }

  async delete(deadLetterId: string): Promise<boolean> {
    const index = this.letters.findIndex((letter) => letter.dead_letter_id === deadLetterId);
    if (index >= 0) this.letters.splice(index, 1);
    return index >= 0;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const FAST: DeliveryPolicy = { retry: 3, backoffPolicy: 'exponential', backoffDelayMs: 5, timeoutMs: 150 };

export function describeEventBusContract(adapterName: string, makeBus: MakeBus): void {
  describe(`EventBus contract: ${adapterName}`, () => {
    let deadLetters: MemoryDeadLetters;
    let opened: { close(): Promise<void> }[] = [];

    async function start(policy: DeliveryPolicy, ...sinks: ScriptedSink[]): Promise<EventBus> {
      deadLetters = new MemoryDeadLetters();
      const adapter = await makeBus(deadLetters, policy);
      opened.push(adapter);
      for (const sink of sinks) adapter.subscribe(sink);
      return adapter.bus;
    }

    afterEach(async () => {
      await Promise.all(opened.map((adapter) => adapter.close()));
      opened = [];
    });

    it('delivers only subscribed event types, once to each subscription, as binary CloudEvents', async () => {
      const runPod = new ScriptedSink('run-pod', ['pod_created']);
      const monitor = new ScriptedSink('monitor', ['pod_created', 'execution_started']);
      const bus = await start(FAST, runPod, monitor);
      const created = podCreated();
      const started = executionStarted(created.execution_id);

      await bus.publish(created);
      await bus.publish(started);
      await bus.drain();

      expect(runPod.calls.map((call) => call.event)).toEqual([created]);
      // Two event types: each arrives once, in either order (order holds within a type).
      expect(monitor.calls.map((call) => call.event)).toHaveLength(2);
      expect(monitor.calls.map((call) => call.event)).toEqual(expect.arrayContaining([created, started]));
      expect(runPod.calls[0]!.url).toBe('http://run-pod.local/');
      expect(deadLetters.letters).toEqual([]);
    });

    it.each([200, 202, 204])('takes a %i answer as done after exactly one delivery', async (status) => {
      const sink = new ScriptedSink('store-result', ['pod_created'], () => status);
      const bus = await start(FAST, sink);
      const event = podCreated();

      await bus.publish(event);
      await bus.drain();
      await sleep(FAST.backoffDelayMs * 4);

      expect(sink.callIds()).toEqual([event.event_id]);
      expect(deadLetters.letters).toEqual([]);
    });

    it.each<Reply>([500, 503, 404, 408, 409, 429, 'throw', 'hang'])(
      'retries after %s until the sink succeeds',
      async (failure) => {
        const sink = new ScriptedSink('notify', ['pod_created'], (_event, attempt) =>
          attempt < 2 ? failure : 202,
        );
        const bus = await start(FAST, sink);
        const event = podCreated();

        await bus.publish(event);
        await bus.drain();

        expect(sink.calls.map((call) => call.attempt)).toEqual([0, 1, 2]);
        expect(sink.acked.map((ack) => ack.event.event_id)).toEqual([event.event_id]);
        expect(deadLetters.letters).toEqual([]);
      },
    );

    it.each([400, 401, 403, 413, 422])('dead-letters a %i answer at once', async (status) => {
      const sink = new ScriptedSink('run-pod', ['pod_created'], () => status);
      const bus = await start(FAST, sink);
      const event = podCreated();

      await bus.publish(event);
      await bus.drain();

      expect(sink.calls).toHaveLength(1);
      expect(deadLetters.letters).toHaveLength(1);
      const letter = deadLetters.letters[0]!;
      expect(letter).toMatchObject({
        subscriber: 'run-pod',
        event_id: event.event_id,
        event_type: 'pod_created',
        event,
        attempts: 1,
      });
      expect(letter.error).toContain(`HTTP ${status}`);
      expect(letter.error).toContain(`sink says ${status}`);
    });

    it('dead-letters with the attempt count once retries are used up', async () => {
      const sink = new ScriptedSink('run-pod', ['pod_created'], () => 503);
      const bus = await start(FAST, sink);
      const event = podCreated();

      await bus.publish(event);
      await bus.drain();

      expect(sink.calls).toHaveLength(FAST.retry + 1);
      expect(deadLetters.letters).toHaveLength(1);
      expect(deadLetters.letters[0]).toMatchObject({ event_id: event.event_id, attempts: FAST.retry + 1 });
      expect(deadLetters.letters[0]!.error).toMatch(new RegExp(`${FAST.retry + 1} attempts.*HTTP 503`));
    });

    it('counts a sink that never answers as failed after the timeout', async () => {
      const policy: DeliveryPolicy = { ...FAST, retry: 1, timeoutMs: 60 };
      const sink = new ScriptedSink('run-pod', ['pod_created'], () => 'hang');
      const bus = await start(policy, sink);
      const started = performance.now();

      await bus.publish(podCreated());
      await bus.drain();

      expect(sink.calls).toHaveLength(2);
      expect(performance.now() - started).toBeGreaterThanOrEqual(2 * policy.timeoutMs - 5);
      expect(deadLetters.letters[0]!.error).toMatch(/2 attempts.*60 ms/);
    });

    // Topics are per event type, so order holds per aggregate within a type (a Kafka partition).
    it('keeps one aggregate’s events of a type in publish order, one at a time, even while the first is retried', async () => {
      let inFlight = 0;
      let overlapped = false;
      const first = executionStarted();
      const sink = new ScriptedSink('monitor', ['execution_started'], async (event, attempt) => {
        inFlight++;
        if (inFlight > 1) overlapped = true;
        await sleep(2);
        inFlight--;
        return event.event_id === first.event_id && attempt < 2 ? 503 : 202;
      });
      const bus = await start(FAST, sink);
      const later = [1, 2, 3].map(() => executionStarted(first.execution_id));

      for (const event of [first, ...later]) await bus.publish(event);
      await bus.drain();

      const ids = [first, ...later].map((event) => event.event_id);
      expect(sink.callIds()).toEqual([ids[0], ids[0], ids[0], ids[1], ids[2], ids[3]]);
      expect(overlapped).toBe(false);
      expect(deadLetters.letters).toEqual([]);
    });

    it('does not hold up other aggregates while one is retried', async () => {
      const policy: DeliveryPolicy = { ...FAST, backoffDelayMs: 40 };
      const blocked = podCreated();
      const sink = new ScriptedSink('monitor', ['pod_created'], (event, attempt) =>
        event.event_id === blocked.event_id && attempt < 2 ? 503 : 202,
      );
      const bus = await start(policy, sink);
      const others = [podCreated(), podCreated()];

      await bus.publish(blocked);
      for (const event of others) await bus.publish(event);
      await bus.drain();

      const ackedAt = new Map(sink.acked.map((ack) => [ack.event.event_id, ack.at]));
      for (const other of others) {
        expect(ackedAt.get(other.event_id)!).toBeLessThan(ackedAt.get(blocked.event_id)!);
      }
      expect(sink.calls.filter((call) => call.event.event_id === blocked.event_id)).toHaveLength(3);
    });

    it('delivers to different aggregates at the same time', async () => {
      const events = [podCreated(), podCreated(), podCreated()];
      let arrived = 0;
      let allArrived: () => void = () => {};
      const barrier = new Promise<void>((resolve) => {
        allArrived = resolve;
      });
      // Each answer waits until all three requests are in flight; serial delivery would time out instead.
      const sink = new ScriptedSink('notify', ['pod_created'], async () => {
        if (++arrived === events.length) allArrived();
        await barrier;
        return 202;
      });
      const bus = await start({ ...FAST, retry: 0, timeoutMs: 1000 }, sink);

      for (const event of events) await bus.publish(event);
      await bus.drain();

      expect(sink.acked).toHaveLength(events.length);
      expect(deadLetters.letters).toEqual([]);
    });

    it('waits longer after each failure: exponential doubles, linear adds', async () => {
      const delay = 25;
      const exponential = new ScriptedSink('exp', ['pod_created'], () => 503);
      const linear = new ScriptedSink('lin', ['execution_started'], () => 503);
      const expBus = await start(
        { retry: 3, backoffPolicy: 'exponential', backoffDelayMs: delay, timeoutMs: 500 },
        exponential,
      );
      const linBus = await start(
        { retry: 3, backoffPolicy: 'linear', backoffDelayMs: delay, timeoutMs: 500 },
        linear,
      );
      const expEvent = podCreated();
      const linEvent = executionStarted();

      await Promise.all([expBus.publish(expEvent), linBus.publish(linEvent)]);
      await Promise.all([expBus.drain(), linBus.drain()]);

      // Expected gaps: exponential 25, 50, 100 ms; linear 25, 50, 75 ms. Timers only ever run late.
      const [e1, e2, e3] = exponential.gaps(expEvent.event_id) as [number, number, number];
      expect(e1).toBeGreaterThanOrEqual(delay - 2);
      expect(e2 / e1).toBeGreaterThan(1.5);
      expect(e3 / e2).toBeGreaterThan(1.5);
      const [l1, l2, l3] = linear.gaps(linEvent.event_id) as [number, number, number];
      expect(l1).toBeGreaterThanOrEqual(delay - 2);
      expect(l2).toBeGreaterThan(l1);
      expect(l3).toBeGreaterThan(l2);
      expect(l3 / l2).toBeLessThan(1.8);
    });

    it('close() waits for deliveries under way and then refuses new events', async () => {
      const sink = new ScriptedSink('store-result', ['pod_created'], async () => {
        await sleep(30);
        return 202;
      });
      deadLetters = new MemoryDeadLetters();
      const adapter = await makeBus(deadLetters, FAST);
      adapter.subscribe(sink);
      const event = podCreated();

      await adapter.bus.publish(event);
      await adapter.close();

      expect(sink.acked.map((ack) => ack.event.event_id)).toEqual([event.event_id]);
      await expect(adapter.bus.publish(podCreated())).rejects.toThrow(/closed/);
    });
  });
}
