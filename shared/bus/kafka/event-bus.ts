/**
 * The production event bus: each event becomes one Kafka record on the topic named by its type, keyed by
 * its aggregate (one execution's events share a partition and stay in order), written as a binary-mode
 * CloudEvent so a KafkaSource forwards it unchanged. `publish()` resolves once the broker has the record
 * on every in-sync replica; delivery to functions is the KafkaSource's job (or KafkaSourceDispatcher's).
 */
import { type ICustomPartitioner, type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { DomainEvent, EventType } from '../../events/schemas';
import type { EventBus } from '../port';
import { eventHeaders } from './binding';
import { createKafka, type KafkaConnection } from './client';

/** Events that only feed open streams and the event store; they have no topic. */
const NOT_ON_KAFKA: ReadonlySet<EventType> = new Set(['execution_output']);

export interface KafkaEventBusOptions extends KafkaConnection {
  /** Prepended to every topic name (tests give each run its own topics). */
  topicPrefix?: string;
  /**
   * Which partition a key goes to. Default: kafkajs's murmur2 partitioner, the Java client's, so a key
   * lands where a KafkaSink or any other producer would put it.
   */
  partitioner?: ICustomPartitioner;
  /**
   * How long one publish may wait for the broker. The idempotent producer retries without end, so
   * without this bound a broker outage would hang the caller instead of failing its request.
   */
  publishTimeoutMs?: number;
}

export class KafkaEventBus implements EventBus {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly prefix: string;
  private readonly publishTimeoutMs: number;
  private connecting: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: KafkaEventBusOptions) {
    this.kafka = createKafka({ ...options, clientId: options.clientId ?? 'integr8scode-publisher' });
    this.producer = this.kafka.producer({
      idempotent: true,
      // Idempotence keeps order with up to 5 requests in flight; one keeps the partition log simple to read.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: options.partitioner ?? Partitioners.DefaultPartitioner,
    });
    this.prefix = options.topicPrefix ?? '';
    this.publishTimeoutMs = options.publishTimeoutMs ?? 15_000;
  }

  /** Connects now instead of at the first publish (readiness checks, start-up). */
  async connect(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((error: unknown) => {
      this.connecting = null;
      throw error;
    });
    await this.connecting;
  }

  topicFor(eventType: EventType): string {
    return `${this.prefix}${eventType}`;
  }

  async publish(event: DomainEvent): Promise<void> {
    if (this.closed)
      throw new Error(`event bus is closed; ${event.event_type} ${event.event_id} was not published`);
    if (NOT_ON_KAFKA.has(event.event_type)) return;
    const sent = this.send(event);
    this.inFlight.add(sent);
    try {
      await sent;
    } finally {
      this.inFlight.delete(sent);
    }
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.drain();
    if (this.connecting) {
      await this.connecting.catch(() => {});
      await this.producer.disconnect();
    }
  }

  private async send(event: DomainEvent): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const cutoff = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `Kafka did not acknowledge ${event.event_type} ${event.event_id} within ${this.publishTimeoutMs} ms`,
            ),
          ),
        this.publishTimeoutMs,
      );
    });
    const write = (async () => {
      await this.connect();
      await this.producer.send({
        topic: this.topicFor(event.event_type),
        acks: -1,
        messages: [{ key: event.aggregate_id, value: JSON.stringify(event), headers: eventHeaders(event) }],
      });
    })();
    // After the cutoff the write may still land; consumers are idempotent on event_id, so that is harmless.
    write.catch(() => {});
    try {
      await Promise.race([write, cutoff]);
    } finally {
      clearTimeout(timer);
    }
  }
}
