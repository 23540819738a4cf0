/** `npm run stack`: the stack on this machine, once scripts/stack.sh has started the servers. */
import { startStack } from './stack-runner';

const env: Record<string, string> = {};
for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
const fromServices: Record<string, string | undefined> = {
  MONGO_URL: process.env.INTEGR8S_MONGO_URL,
  REDIS_URL: process.env.INTEGR8S_REDIS_URL,
  KAFKA_BROKERS: process.env.INTEGR8S_KAFKA_BROKERS,
};
for (const [key, value] of Object.entries(fromServices)) if (!env[key] && value) env[key] = value;
env.DATA_DIR ??= '.data/stack';

const stack = await startStack({
  env,
  webRoot: env.WEB_ROOT ?? 'web/dist',
  onLog: (name, line) => process.stdout.write(`[${name}] ${line}\n`),
});
process.stdout.write(`\n  Integr8sCode (stack mode) is running at ${stack.url}\n\n`);
const stop = async () => {
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
