import type { DomainEvent, EventType } from '../events/schemas';

/**
 * Where events go once they are stored. Subscribers receive them as CloudEvents over HTTP semantics
 * (a `Request` in, a `Response` out) and the bus applies KafkaSource's delivery rules to the status.
 * Order is kept per aggregate within an event type (on Kafka: a topic per type, keyed by aggregate);
 * events of different types may arrive in any order, and every consumer tolerates that.
 */
export interface EventBus {
  publish(event: DomainEvent): Promise<void>;
  /** Resolves when every delivery in flight or waiting for a retry has finished (for tests and shutdown). */
  drain(): Promise<void>;
  /** Resolves when the bus can take events (readiness probes); throws saying why not. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** A KafkaSource: the event types it consumes and the sink it delivers them to. */
export interface Subscription {
  /** Consumer group name; also names the subscriber in dead letters. */
  name: string;
  eventTypes: readonly EventType[];
  /** The sink: the function's Hono app `fetch`, or an HTTP call to its URL. */
  deliver(request: Request): Promise<Response>;
}

/** KafkaSource `delivery` settings. */
export interface DeliveryPolicy {
  retry: number;
  backoffPolicy: 'exponential' | 'linear';
  backoffDelayMs: number;
  /** Per-attempt timeout; a sink that does not answer in time counts as a failed attempt. */
  timeoutMs: number;
}

/**
 * Retries over about 8½ minutes (0.5 s doubling ten times) before an event is dead-lettered: a sink
 * answers 5xx while MongoDB, Redis or Kafka is restarting, and giving up during such an outage would
 * strand the execution. Events a sink cannot take (malformed, unknown) get a 4xx and skip the retries.
 */
export const DEFAULT_DELIVERY: DeliveryPolicy = {
  retry: 10,
  backoffPolicy: 'exponential',
  backoffDelayMs: 500,
  timeoutMs: 30_000,
};
