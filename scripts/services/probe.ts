// Readiness probes and Kafka topic setup for the local services that services.sh starts.
//
//   probe.ts kafka <brokers> <topics.yaml> <timeout-ms> [partitions]
//     waits until the broker answers metadata requests, creates every topic defined in topics.yaml that is
//     missing (partitions as given, one replica, the topic's max.message.bytes and retention.ms), then makes
//     the broker create its consumer-offsets topic so the first consumer group joins without waiting.
//   probe.ts mongo <url> <timeout-ms>
//     waits until the MongoDB-wire server answers `ping`.
//
// Prints one line on success; on failure prints the last error and exits 1. Every loop is bounded by the
// deadline.
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { parseAllDocuments } from 'yaml';

// Topic settings that mean the same on one broker as on the production cluster; replica and ISR counts
// do not.
const copiedTopicConfigs = ['max.message.bytes', 'retention.ms'];

interface TopicDefinition {
  name: string;
  configs: { name: string; value: string }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function retryUntil<T>(deadline: number, what: string, attempt: () => Promise<T>): Promise<T> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await attempt();
    } catch (error) {
      lastError = error;
      await sleep(200);
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`${what}: no answer before the deadline (last error: ${reason})`);
}

function readTopicDefinitions(file: string): TopicDefinition[] {
  const topics: TopicDefinition[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (!('toJS' in doc)) continue;
    const value = doc.toJS() as {
      kind?: string;
      spec?: { topicName?: string; config?: Record<string, unknown> };
    };
    if (value?.kind !== 'KafkaTopic' || !value.spec?.topicName) continue;
    const config = value.spec.config ?? {};
    topics.push({
      name: value.spec.topicName,
      configs: copiedTopicConfigs
        .filter((name) => config[name] !== undefined)
        .map((name) => ({ name, value: String(config[name]) })),
    });
  }
  return topics;
}

async function kafka(brokers: string, topicsFile: string, timeoutMs: number, partitions: number) {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const topics = readTopicDefinitions(topicsFile);
  const client = new Kafka({
    clientId: 'integr8s-services',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  });
  const admin = client.admin();
  try {
    await retryUntil(deadline, `kafka at ${brokers}`, async () => {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) throw new Error('no broker registered yet');
    });
    const answeredMs = Date.now() - started;
    const existing = new Set(await retryUntil(deadline, 'list topics', () => admin.listTopics()));
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      await retryUntil(deadline, 'create topics', async () => {
        // A retried attempt may find some topics already created by the attempt before it.
        const present = new Set(await admin.listTopics());
        const topicsToCreate = missing
          .filter((t) => !present.has(t.name))
          .map((t) => ({
            topic: t.name,
            numPartitions: partitions,
            replicationFactor: 1,
            configEntries: t.configs,
          }));
        if (topicsToCreate.length > 0)
          await admin.createTopics({ waitForLeaders: true, topics: topicsToCreate });
      });
    }
    // Asking for a group's offsets makes the broker create __consumer_offsets now, rather than on a test's
    // first subscribe, which would otherwise wait for it.
    await retryUntil(deadline, 'group coordinator', () =>
      admin.fetchOffsets({
        groupId: 'integr8s-services-ready',
        topics: topics.slice(0, 1).map((t) => t.name),
      }),
    );
    await retryUntil(deadline, 'partition leaders', async () => {
      const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
      const leaderless = metadata.topics.filter((t) => t.partitions.some((p) => p.leader < 0));
      if (leaderless.length > 0)
        throw new Error(`no leader yet for ${leaderless.map((t) => t.name).join(', ')}`);
    });
    const readyMs = Date.now() - started;
    const summary = `${topics.length} topics (${missing.length} created)`;
    console.log(`kafka answered after ${answeredMs} ms; ${summary}, ready after ${readyMs} ms`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function mongo(url: string, timeoutMs: number) {
  const started = Date.now();
  const deadline = started + timeoutMs;
  await retryUntil(deadline, `mongodb at ${url}`, async () => {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
    try {
      await client.connect();
      await client.db().command({ ping: 1 });
    } finally {
      await client.close().catch(() => {});
    }
  });
  console.log(`mongodb answered ping after ${Date.now() - started} ms`);
}

async function main(argv: string[]) {
  const [kind, ...args] = argv;
  if (kind === 'kafka' && args.length >= 3) {
    await kafka(args[0]!, args[1]!, Number(args[2]), Number(args[3] ?? 3));
  } else if (kind === 'mongo' && args.length >= 2) {
    await mongo(args[0]!, Number(args[1]));
  } else {
    throw new Error(
      'usage: probe.ts kafka <brokers> <topics.yaml> <timeout-ms> [partitions] | mongo <url> <timeout-ms>',
    );
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
