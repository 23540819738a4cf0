/**
 * The production event bus: each event becomes one Kafka record on the topic named by its type, keyed by
 * its aggregate (one execution's events share a partition and stay in order), written as a binary-mode
 * CloudEvent so a KafkaSource forwards it unchanged. `publish()` resolves once the broker has the record
 * on every in-sync replica; delivery to functions is the KafkaSource's job (or KafkaSourceDispatcher's).
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ICustomPartitioner, Producer } from 'kafkajs';
import type { DomainEvent, EventType } from '../../events/schemas';
import type { EventBus } from '../port';
import { eventHeaders } from './binding';
import type { KafkaConnection } from './client';

/** At most this many records go in one produce request. */
const MAX_BATCH_RECORDS = 500;
/** A broker that has not accepted a connection by then counts as down for readiness. */
const READY_PROBE_TIMEOUT_MS = 1000;

/** Events that only feed open streams and the event store; they have no topic. */
const NOT_ON_KAFKA: ReadonlySet<EventType> = new Set(['execution_output']);

interface Waiter {
  event: DomainEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface TopicQueue {
  waiting: Waiter[];
  flushing: boolean;
}

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
  private readonly options: KafkaEventBusOptions;
  /** Made by the first connect(). */
  private producer: Producer | null = null;
  private readonly prefix: string;
  private readonly publishTimeoutMs: number;
  private connecting: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly queues = new Map<string, TopicQueue>();
  private closed = false;

  constructor(options: KafkaEventBusOptions) {
    this.options = options;
    this.prefix = options.topicPrefix ?? '';
    this.publishTimeoutMs = options.publishTimeoutMs ?? 15_000;
  }

  /** Connects now instead of at the first publish (readiness checks, start-up). */
  async connect(): Promise<void> {
    this.connecting ??= this.openProducer().catch((error: unknown) => {
      this.connecting = null;
      throw error;
    });
    await this.connecting;
  }

  /**
   * kafkajs is a quarter of a function's code and is first needed here, so it is loaded here: a function
   * process gets ready without parsing it (the bundle keeps it in a chunk of its own).
   */
  private async openProducer(): Promise<void> {
    // kafkajs is CommonJS: imported on demand, its exports are the default export.
    const [{ createKafka }, { default: kafkajs }] = await Promise.all([
      import('./client'),
      import('kafkajs'),
    ]);
    const { options } = this;
    this.producer ??= createKafka({
      ...options,
      clientId: options.clientId ?? 'integr8scode-publisher',
    }).producer({
      idempotent: true,
      // kafkajs's idempotent producer sends one request per broker at a time whatever this says.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: options.partitioner ?? kafkajs.Partitioners.DefaultPartitioner,
    });
    await this.producer.connect();
  }

  /**
   * Some broker accepts a connection. A probe that needs no Kafka client, so readiness does not load
   * kafkajs; a broker that is down or unreachable makes the function report not-ready until it is back.
   */
  async ready(): Promise<void> {
    const { brokers } = this.options;
    try {
      await Promise.any(brokers.map((broker) => acceptsConnections(broker, READY_PROBE_TIMEOUT_MS)));
    } catch {
      throw new Error(`no Kafka broker accepts connections (${brokers.join(', ')})`);
    }
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
      await this.producer?.disconnect();
    }
  }

  /**
   * Sends what waits for `topic` as one request, and again for whatever arrived meanwhile. kafkajs does
   * not batch concurrent send() calls and its idempotent producer holds one request per broker at a
   * time, so one record per request would cap a busy function at a few hundred events a second. Each
   * topic has its own queue: order matters within a topic only, and a topic that cannot be written
   * must not hold up the others.
   */
  private async flush(topic: string, queue: TopicQueue): Promise<void> {
    queue.flushing = true;
    try {
      while (queue.waiting.length > 0) {
        await this.sendTopic(topic, queue.waiting.splice(0, MAX_BATCH_RECORDS));
      }
    } finally {
      queue.flushing = false;
    }
  }

  /**
   * One topic's records in one request. The idempotent producer retries without end (a missing topic, a
   * broker outage), so the wait is bounded.
   */
  private async sendTopic(topic: string, waiters: Waiter[]): Promise<void> {
    const bound = new AbortController();
    const sent = (async () => {
      await this.connect();
      await this.producer!.send({
        topic,
        acks: -1,
        messages: waiters.map(({ event }) => ({
          key: event.aggregate_id,
          value: JSON.stringify(event),
          headers: eventHeaders(event),
        })),
      });
    })();
    sent.catch(() => {});
    const cutoff = sleep(this.publishTimeoutMs, undefined, { signal: bound.signal }).then(() => {
      throw new Error(
        `Kafka did not acknowledge ${waiters.length} record(s) for ${topic} within ${this.publishTimeoutMs} ms`,
      );
    });
    try {
      await Promise.race([sent, cutoff]);
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
    } finally {
      bound.abort();
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
    const topic = this.topicFor(event.event_type);
    let queue = this.queues.get(topic);
    if (!queue) {
      queue = { waiting: [], flushing: false };
      this.queues.set(topic, queue);
    }
    const write = new Promise<void>((resolve, reject) => {
      queue.waiting.push({ event, resolve, reject });
      if (!queue.flushing) void this.flush(topic, queue);
    });
    // After the cutoff the write may still land; consumers are idempotent on event_id, so that is harmless.
    write.catch(() => {});
    try {
      await Promise.race([write, cutoff]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Resolves once `host:port` accepts a TCP connection, which is then closed. */
function acceptsConnections(broker: string, timeoutMs: number): Promise<void> {
  const colon = broker.lastIndexOf(':');
  const socket = connect({ host: broker.slice(0, colon), port: Number(broker.slice(colon + 1)) });
  return new Promise<void>((resolve, reject) => {
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`${broker}: no answer in ${timeoutMs} ms`)));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
