/**
 * A dispatcher in a process of its own, for the crash test: its sink reports each delivery on stdout
 * and never answers, so the record is in flight, unacked and uncommitted, when the test kills it.
 */
import { MemoryDeadLetters } from '../bus.contract';
import { KafkaSourceDispatcher } from './dispatcher';
import { kafkaBrokers, quietLog } from './test-support';

const prefix = process.env.CRASH_FIXTURE_PREFIX ?? '';
const dispatcher = new KafkaSourceDispatcher({
  brokers: kafkaBrokers ?? [],
  log: quietLog,
  deadLetters: new MemoryDeadLetters(),
  topicPrefix: prefix,
  sessionTimeoutMs: 6000,
  maxWaitTimeInMs: 100,
  sources: [
    {
      name: 'monitor',
      consumerGroup: `${prefix}monitor`,
      topics: ['pod_created'],
      delivery: { retry: 0, backoffPolicy: 'linear', backoffDelayMs: 10, timeoutMs: 60_000 },
      deliver: (request) => {
        process.stdout.write(`delivering ${request.headers.get('ce-id')}\n`);
        return new Promise<Response>(() => {});
      },
    },
  ],
});
await dispatcher.start();
process.stdout.write('started\n');
