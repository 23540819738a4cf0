/**
 * The submit function alone, as its own process on the stack platform (MongoDB wire, Redis, Kafka), for
 * bench/stack/submit.ts. It is the function's bundle entry with one difference: its event bus writes to
 * topics named `BENCH_TOPIC_PREFIX` + event type, so the thousands of `execution_requested` records a
 * load run produces stay out of the topics that stack mode's run-pod consumer group reads.
 */
import { serve } from '@hono/node-server';
import { submitFunction } from '../../functions/submit';
import { createSubmitApp } from '../../functions/submit/app';
import { KafkaEventBus } from '../../shared/bus/kafka/event-bus';
import { loadConfigOrExit } from '../../shared/config/config';
import { EventPublisher } from '../../shared/events/publisher';
import { SERVICE_VERSION } from '../../shared/platform/platform';
import { createStackPlatform } from '../../shared/platform/stack';

const prefix = process.env.BENCH_TOPIC_PREFIX;
if (!prefix) throw new Error('BENCH_TOPIC_PREFIX is required');
const config = loadConfigOrExit();
const platform = await createStackPlatform(config, 'submit', submitFunction.sandbox);
const bus = new KafkaEventBus({
  brokers: config.KAFKA_BROKERS!,
  clientId: 'integr8scode-submit',
  log: platform.log,
  topicPrefix: prefix,
});
await bus.connect();
const events = new EventPublisher(
  platform.store.events,
  platform.fanout,
  bus,
  { name: 'submit', version: SERVICE_VERSION },
  platform.now,
);
const app = createSubmitApp({ ...platform, bus, events });
// Requests still being handled when the load stops finish before the process closes its connections.
let inFlight = 0;
const server = serve({
  fetch: async (request: Request) => {
    inFlight++;
    try {
      return await app.fetch(request);
    } finally {
      inFlight--;
    }
  },
  port: config.PORT,
  hostname: config.HOST,
});
const stop = async () => {
  server.close();
  for (let waited = 0; inFlight > 0 && waited < 60_000; waited += 50)
    await new Promise((r) => setTimeout(r, 50));
  await bus.close();
  await platform.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
