/**
 * Helpers for tests against a real broker (address in INTEGR8S_KAFKA_BROKERS): topics of their own per
 * test, so runs never see each other's records, and a partitioner that spreads keys deterministically.
 */
import { randomBytes } from 'node:crypto';
import type { ICustomPartitioner, KafkaMessage } from 'kafkajs';
import { createLogger } from '../../log';
import { createKafka } from './client';
import { retrying } from './dispatcher';

export const KAFKA_BROKERS_ENV = 'INTEGR8S_KAFKA_BROKERS';

export const kafkaBrokers: string[] | null =
  process.env[KAFKA_BROKERS_ENV]
    ?.split(',')
    .map((broker) => broker.trim())
    .filter(Boolean) ?? null;

export function reportSkip(what: string): void {
  if (!kafkaBrokers?.length) {
    console.warn(`${KAFKA_BROKERS_ENV} is not set (host:port of a Kafka broker): skipping ${what}`);
  }
}

export const quietLog = createLogger(
  (process.env.INTEGR8S_TEST_LOG as 'debug' | 'info' | 'warn' | 'error' | undefined) ?? 'silent',
);

/** A fresh topic-name prefix, e.g. `t-lq3k9a1f2c.`. */
export function uniquePrefix(): string {
  return `t-${Date.now().toString(36)}${randomBytes(3).toString('hex')}.`;
}

/**
 * Each new key gets the next partition, so a test's first N aggregates land on N different partitions
 * (the murmur2 default would put two of a handful of random keys together now and then).
 */
export const spreadingPartitioner: ICustomPartitioner = () => {
  const assigned = new Map<string, number>();
  return ({ message, partitionMetadata }) => {
    const key = String(message.key);
    let partition = assigned.get(key);
    if (partition === undefined) {
      partition = assigned.size % partitionMetadata.length;
      assigned.set(key, partition);
    }
    return partition;
  };
};

/** Topics made and removed with the admin client. */
export class TestTopics {
  private readonly kafka = createKafka({ brokers: kafkaBrokers ?? [], log: quietLog, clientId: 'tests' });
  private readonly admin = this.kafka.admin();
  private readonly made = new Set<string>();
  private connected: Promise<void> | null = null;

  async ensure(topics: readonly string[], numPartitions = 8): Promise<void> {
    this.connected ??= this.admin.connect();
    await this.connected;
    const missing = topics.filter((topic) => !this.made.has(topic));
    if (missing.length === 0) return;
    for (const topic of missing) this.made.add(topic);
    await this.admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })),
    });
    // Serving offsets proves every partition has a leader that knows it leads.
    for (const topic of missing) await retrying(() => this.admin.fetchTopicOffsets(topic));
  }

  async removeAll(): Promise<void> {
    if (!this.connected) return;
    await this.admin.deleteTopics({ topics: [...this.made] }).catch(() => {});
    await this.admin.disconnect();
  }
}

/** The first `count` records of `topic`, read raw by a consumer group of its own; bounded by `timeoutMs`. */
export async function readRecords(topic: string, count: number, timeoutMs = 15_000): Promise<KafkaMessage[]> {
  const kafka = createKafka({ brokers: kafkaBrokers ?? [], log: quietLog, clientId: 'tests-reader' });
  const consumer = kafka.consumer({ groupId: `reader-${uniquePrefix()}`, maxWaitTimeInMs: 200 });
  const records: KafkaMessage[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`read ${records.length} of ${count} records from ${topic} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ message }) => {
          records.push(message);
          if (records.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
