/**
 * The embedded event bus: KafkaSource's delivery semantics inside one process. Each subscription keeps
 * one lane per aggregate (the Kafka record key), so an aggregate's events arrive in publish order, one at
 * a time, retries included; lanes run in parallel up to a limit. Failures follow the shared delivery rules
 * and end as stored dead letters. Nothing is persisted here: the publisher stored the event first, and
 * events still unfinished when a bounded `close()` gives up are dead-lettered, not dropped.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { toBinaryRequest } from '../events/cloudevents';
import type { DomainEvent } from '../events/schemas';
import type { Logger } from '../log';
import type { DeadLetter, DeadLetterRepository } from '../store/ports';
import {
  type AttemptResult,
  attemptDelivery,
  backoffMs,
  classifyDelivery,
  describeFailure,
} from './delivery';
import { DEFAULT_DELIVERY, type DeliveryPolicy, type EventBus, type Subscription } from './port';

export interface InProcessBusOptions {
  deadLetters: DeadLetterRepository;
  log: Logger;
  policy?: DeliveryPolicy;
  /** Attempts running at once per subscription (one per aggregate at most). */
  maxInFlightPerSubscription?: number;
  /** How long `close()` waits for unfinished deliveries before dead-lettering them. */
  closeTimeoutMs?: number;
}

const DEAD_LETTER_RETRY_MS = { first: 100, max: 30_000 };

interface Consumer {
  subscription: Subscription;
  url: string;
  /** Events waiting or in delivery, per aggregate; the head of each lane is the one being delivered. */
  lanes: Map<string, DomainEvent[]>;
  slots: Slots;
}

export class InProcessBus implements EventBus {
  private readonly consumers: Consumer[] = [];
  private readonly policy: DeliveryPolicy;
  private readonly maxInFlight: number;
  private readonly closeTimeoutMs: number;
  /** Events accepted for some consumer and not yet acked or dead-lettered. */
  private unfinished = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  /** Aborted when `close()` stops waiting: backoffs end early and remaining events are dead-lettered. */
  private readonly shutdown = new AbortController();

  constructor(private readonly options: InProcessBusOptions) {
    this.policy = options.policy ?? DEFAULT_DELIVERY;
    this.maxInFlight = options.maxInFlightPerSubscription ?? 64;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1)
      throw new Error('maxInFlightPerSubscription must be at least 1');
  }

  subscribe(subscription: Subscription): void {
    if (this.closed) throw new Error(`event bus is closed; cannot subscribe ${subscription.name}`);
    this.consumers.push({
      subscription,
      url: `http://${subscription.name}.local/`,
      lanes: new Map(),
      slots: new Slots(this.maxInFlight),
    });
  }

  async publish(event: DomainEvent): Promise<void> {
    if (this.closed)
      throw new Error(`event bus is closed; ${event.event_type} ${event.event_id} was not published`);
    for (const consumer of this.consumers) {
      if (consumer.subscription.eventTypes.includes(event.event_type)) this.enqueue(consumer, event);
    }
  }

  /** In this process: ready whenever the process is. */
  async ready(): Promise<void> {}

  drain(): Promise<void> {
    if (this.unfinished === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (await this.drainWithin(this.closeTimeoutMs)) return;
    this.options.log.error('event bus closing with unfinished deliveries; dead-lettering them', {
      unfinished: this.unfinished,
    });
    this.shutdown.abort();
    await this.drainWithin(this.closeTimeoutMs);
  }

  private enqueue(consumer: Consumer, event: DomainEvent): void {
    this.unfinished++;
    const lane = consumer.lanes.get(event.aggregate_id);
    if (lane) {
      lane.push(event);
      return;
    }
    consumer.lanes.set(event.aggregate_id, [event]);
    void this.runLane(consumer, event.aggregate_id);
  }

  private async runLane(consumer: Consumer, aggregateId: string): Promise<void> {
    const lane = consumer.lanes.get(aggregateId)!;
    while (lane.length > 0) {
      const event = lane[0]!;
      try {
        await this.deliver(consumer, event);
      } catch (error) {
        // deliver() handles every failure itself; reaching this is a bug, and the event must not vanish.
        this.options.log.error('event bus failed to deliver', { error, event_id: event.event_id });
      }
      lane.shift();
      this.finished();
    }
    consumer.lanes.delete(aggregateId);
  }

  /** Attempts until acked; otherwise stores a dead letter. Never throws. */
  private async deliver(consumer: Consumer, event: DomainEvent): Promise<void> {
    const name = consumer.subscription.name;
    for (let attempt = 0; ; attempt++) {
      if (this.shutdown.signal.aborted) {
        return this.deadLetter(
          consumer,
          event,
          attempt,
          `event bus closed before ${name} acknowledged the event`,
        );
      }
      const result = await this.attempt(consumer, event);
      const outcome = classifyDelivery(result);
      if (outcome === 'ack') return;
      const reason = describeFailure(result, name, this.policy.timeoutMs);
      const attempts = attempt + 1;
      if (outcome === 'dead-letter') return this.deadLetter(consumer, event, attempts, reason);
      if (attempt >= this.policy.retry) {
        return this.deadLetter(
          consumer,
          event,
          attempts,
          `retries exhausted after ${attempts} attempts: ${reason}`,
        );
      }
      const delayMs = backoffMs(this.policy, attempt);
      this.options.log.warn('delivery failed; will retry', {
        subscriber: name,
        event_id: event.event_id,
        event_type: event.event_type,
        attempts,
        delay_ms: delayMs,
        reason,
      });
      await this.pause(delayMs);
    }
  }

  /** One POST, cut off by the per-attempt timeout or by shutdown; holds a slot only while it runs. */
  private async attempt(consumer: Consumer, event: DomainEvent): Promise<AttemptResult> {
    await consumer.slots.acquire();
    const abort = new AbortController();
    try {
      const request = new Request(toBinaryRequest(event, consumer.url), { signal: abort.signal });
      return await attemptDelivery(
        (r) => consumer.subscription.deliver(r),
        request,
        abort,
        this.policy.timeoutMs,
        {
          signal: this.shutdown.signal,
          reason: 'event bus shut down',
        },
      );
    } finally {
      consumer.slots.release();
    }
  }

  /** Stores the dead letter, retrying the write until it succeeds (or, after shutdown, logging it in full). */
  private async deadLetter(
    consumer: Consumer,
    event: DomainEvent,
    attempts: number,
    error: string,
  ): Promise<void> {
    const letter: DeadLetter = {
      dead_letter_id: randomUUID(),
      subscriber: consumer.subscription.name,
      event,
      raw: null,
      event_type: event.event_type,
      event_id: event.event_id,
      error,
      attempts,
      created_at: new Date().toISOString(),
    };
    this.options.log.warn('event dead-lettered', {
      subscriber: letter.subscriber,
      event_id: letter.event_id,
      event_type: letter.event_type,
      attempts,
      error,
    });
    for (let failures = 0; ; failures++) {
      try {
        await this.options.deadLetters.add(letter);
        return;
      } catch (writeError) {
        if (this.shutdown.signal.aborted) {
          this.options.log.error('could not store dead letter at shutdown; event lost from the bus', {
            error: writeError,
            letter,
          });
          return;
        }
        this.options.log.error('could not store dead letter; retrying', {
          error: writeError,
          event_id: letter.event_id,
          subscriber: letter.subscriber,
        });
        await this.pause(Math.min(DEAD_LETTER_RETRY_MS.first * 2 ** failures, DEAD_LETTER_RETRY_MS.max));
      }
    }
  }

  /** Waits `ms`, or less when the bus shuts down. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.shutdown.signal }).catch(() => {});
  }

  private finished(): void {
    this.unfinished--;
    if (this.unfinished > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async drainWithin(ms: number): Promise<boolean> {
    const bound = new AbortController();
    const drained = await Promise.race([
      this.drain().then(() => true),
      sleep(ms, false, { signal: bound.signal }).catch(() => false),
    ]);
    bound.abort();
    return drained;
  }
}

/** A counting semaphore handing free slots to waiters in arrival order. */
class Slots {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
