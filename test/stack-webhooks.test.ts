/**
 * Webhook delivery in stack mode: notify in its own process on the MongoDB-wire store sends a failed
 * run's notification to a receiver on 127.0.0.1 (allow-listed), which fails once and then accepts; the
 * delivery log read through the notifications function shows both attempts. Needs the servers of
 * `scripts/services/services.sh` and the built bundles.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../shared/http/webhook-signature';
import { type RunningStack, startStack } from '../shared/platform/stack-runner';
import { authHeaders, registerAndLogin, type TestSession } from './support/http';
import { takeStackTurn } from './support/kafka-groups';
import { dropStackDatabase, stackTestEnv } from './support/stack-client';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver';

const { INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL, INTEGR8S_KAFKA_BROKERS } = process.env;
const available = Boolean(INTEGR8S_MONGO_URL && INTEGR8S_REDIS_URL && INTEGR8S_KAFKA_BROKERS);
if (!available)
  console.warn(
    '[stack-webhooks.test] INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL or INTEGR8S_KAFKA_BROKERS unset: skipped',
  );

describe.skipIf(!available)('webhook delivery in stack mode', () => {
  let stack: RunningStack;
  let env: Record<string, string> | undefined;
  let releaseTurn: (() => void) | undefined;
  let session: TestSession;
  let receiver: WebhookReceiver;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'integr8scode-stack-webhooks-'));

  beforeAll(async () => {
    receiver = await startWebhookReceiver([502, 200]);
    releaseTurn = await takeStackTurn(INTEGR8S_KAFKA_BROKERS!);
    env = stackTestEnv(dataDir, `stack_webhooks_${Date.now().toString(36)}`, {
      NOTIFY_ALLOWED_HOSTS: '127.0.0.1',
      NOTIFY_RETRY_BASE_DELAY_MS: '300',
    });
    stack = await startStack({ env, port: 0 });
    session = await registerAndLogin({ request: (p, init) => fetch(stack.url + p, init) });
  }, 720_000); // may wait its turn behind another stack (takeStackTurn)

  afterAll(async () => {
    await stack?.stop();
    releaseTurn?.();
    if (env) await dropStackDatabase(env);
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const send = (method: string, p: string, body?: unknown) =>
    fetch(`${stack.url}/api/v1${p}`, {
      method,
      headers: authHeaders(session, { 'Content-Type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('retries a failed delivery from the notify process and logs both attempts', async () => {
    expect(
      (await send('PUT', '/user/settings/notifications', { channels: ['in_app', 'webhook'] })).status,
    ).toBe(200);
    const saved = await send('PUT', '/notifications/subscriptions/webhook', {
      enabled: true,
      webhook_url: receiver.url,
      include_tags: ['failed'],
    });
    expect(saved.status).toBe(200);
    const { webhook_secret: secret } = (await saved.json()) as { webhook_secret: string };

    expect(
      (await send('POST', '/execute', { script: 'import sys\nsys.exit(5)', lang: 'python' })).status,
    ).toBe(200);
    await expect.poll(() => receiver.hits.length, { timeout: 60_000, interval: 50 }).toBe(2);
    for (const hit of receiver.hits) {
      const signed = {
        timestamp: hit.headers['x-integr8scode-timestamp'] as string,
        signature: hit.headers['x-integr8scode-signature'] as string,
      };
      expect(verifyWebhook(secret, signed, hit.body)).toBe(true);
      expect(JSON.parse(hit.body)).toMatchObject({ subject: 'Execution failed', severity: 'high' });
    }
    expect(receiver.hits[1]!.at - receiver.hits[0]!.at).toBeGreaterThanOrEqual(295);

    await expect
      .poll(
        async () => {
          const log = (await (await send('GET', '/notifications/deliveries')).json()) as {
            deliveries: { status: string; attempts: { status_code: number; outcome: string }[] }[];
          };
          return log.deliveries.map((d) => [
            d.status,
            d.attempts.map((a) => `${a.status_code}:${a.outcome}`),
          ]);
        },
        { timeout: 10_000 },
      )
      .toEqual([['delivered', ['502:failed', '200:succeeded']]]);
  });
});
