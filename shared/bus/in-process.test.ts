import { describe, expect, it } from 'vitest';
import { podCreated } from '../events/sample-events';
import { createLogger, type Logger } from '../log';
import type { DeadLetter } from '../store/ports';
import { describeEventBusContract, MemoryDeadLetters, ScriptedSink } from './bus.contract';
import { InProcessBus } from './in-process';
import type { DeliveryPolicy } from './port';

const silent = createLogger('silent');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FAST: DeliveryPolicy = { retry: 2, backoffPolicy: 'exponential', backoffDelayMs: 5, timeoutMs: 1000 };

describeEventBusContract('in-process', async (deadLetters, policy) => {
  const bus = new InProcessBus({ deadLetters, log: silent, policy });
  return { bus, subscribe: (subscription) => bus.subscribe(subscription), close: () => bus.close() };
});

/** Keeps error records so tests can see that failures were reported. */
function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const logger: Logger & { errors: string[] } = {
    errors,
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (msg) => errors.push(msg),
    child: () => logger,
  };
  return logger;
}

describe('InProcessBus', () => {
  it('runs at most maxInFlightPerSubscription deliveries of one subscription at a time', async () => {
    let inFlight = 0;
    let peak = 0;
    const sink = new ScriptedSink('notify', ['pod_created'], async () => {
      peak = Math.max(peak, ++inFlight);
      await sleep(15);
      inFlight--;
      return 202;
    });
    const bus = new InProcessBus({
      deadLetters: new MemoryDeadLetters(),
      log: silent,
      maxInFlightPerSubscription: 2,
    });
    bus.subscribe(sink);

    for (let i = 0; i < 6; i++) await bus.publish(podCreated());
    await bus.drain();

    expect(sink.acked).toHaveLength(6);
    expect(peak).toBe(2);
  });

  it('keeps the first 500 characters of the sink answer in the dead letter', async () => {
    const deadLetters = new MemoryDeadLetters();
    const bus = new InProcessBus({ deadLetters, log: silent, policy: FAST });
    const detail = `${'x'.repeat(500)}TAIL`;
    bus.subscribe({
      name: 'run-pod',
      eventTypes: ['pod_created'],
      deliver: async () => new Response(detail, { status: 422 }),
    });

    await bus.publish(podCreated());
    await bus.drain();

    expect(deadLetters.letters[0]!.error).toBe(`HTTP 422 from run-pod: ${'x'.repeat(500)}`);
  });

  it('keeps retrying to store a dead letter and reports each failure', async () => {
    const stored: DeadLetter[] = [];
    let failuresLeft = 2;
    const deadLetters = Object.assign(new MemoryDeadLetters(), {
      async add(letter: DeadLetter) {
        if (failuresLeft-- > 0) throw new Error('database is locked');
        stored.push(letter);
      },
    });
    const log = recordingLogger();
    const bus = new InProcessBus({ deadLetters, log, policy: FAST });
    bus.subscribe(new ScriptedSink('run-pod', ['pod_created'], () => 400));
    const event = podCreated();

    await bus.publish(event);
    await bus.drain();

    expect(stored.map((letter) => letter.event_id)).toEqual([event.event_id]);
    expect(log.errors).toEqual([
      'could not store dead letter; retrying',
      'could not store dead letter; retrying',
    ]);
  });

  it('on a bounded close, dead-letters what the sink never answered instead of dropping it', async () => {
    const deadLetters = new MemoryDeadLetters();
    const log = recordingLogger();
    const bus = new InProcessBus({
      deadLetters,
      log,
      policy: { ...FAST, timeoutMs: 60_000 },
      closeTimeoutMs: 50,
    });
    bus.subscribe(new ScriptedSink('run-pod', ['pod_created'], () => 'hang'));
    const hanging = podCreated();
    const queuedBehind = { ...podCreated(hanging.execution_id) };

    await bus.publish(hanging);
    await bus.publish(queuedBehind);
    const started = performance.now();
    await bus.close();

    expect(performance.now() - started).toBeLessThan(1000);
    expect(deadLetters.letters.map((letter) => letter.event_id)).toEqual([
      hanging.event_id,
      queuedBehind.event_id,
    ]);
    expect(deadLetters.letters[0]!.error).toMatch(/closed before run-pod acknowledged/);
    expect(log.errors).toEqual(['event bus closing with unfinished deliveries; dead-lettering them']);
  });

  it('publish resolves once the event is queued, before the sink answers', async () => {
    let answer: (status: number) => void = () => {};
    const sink = new ScriptedSink(
      'run-pod',
      ['pod_created'],
      () => new Promise<number>((resolve) => (answer = resolve)),
    );
    const bus = new InProcessBus({ deadLetters: new MemoryDeadLetters(), log: silent, policy: FAST });
    bus.subscribe(sink);

    await bus.publish(podCreated());
    expect(sink.acked).toHaveLength(0);
    await sleep(5);
    answer(202);
    await bus.drain();

    expect(sink.acked).toHaveLength(1);
  });
});
