/**
 * Webhook delivery with retries, end to end on the embedded platform: a receiver on 127.0.0.1 (through
 * the operator allow-list) fails twice and then accepts; notify's own runner sends. Prints each
 * attempt's time relative to the first, whether each wait matched the configured backoff, whether every
 * signature verified, and the delivery log. Run with `npx tsx bench/webhook-delivery.ts`
 * (BENCH_BASE_DELAY_MS, default 500: the wait after the first failure).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deliveryRunnerFor } from '../functions/notify/deliveries';
import { notifyFunction } from '../functions/notify/index';
import { loadConfig } from '../shared/config/config';
import { newExecution } from '../shared/domain/execution';
import { defaultSubscription } from '../shared/domain/notification-subscription';
import { DEFAULT_PREFERENCES, defaultSettings } from '../shared/domain/user-settings';
import { toBinaryRequest } from '../shared/events/cloudevents';
import { executionFailed } from '../shared/events/sample-events';
import { newWebhookSecret, verifyWebhook } from '../shared/http/webhook-signature';
import { createEmbeddedPlatform } from '../shared/platform/embedded';
import { startWebhookReceiver } from '../test/support/webhook-receiver';

const BASE_DELAY_MS = Number(process.env.BENCH_BASE_DELAY_MS ?? 500);
/** What the runner may add to a backoff: its wake-up, the store, the request itself. */
const SLACK_MS = 250;
const STATUSES = [500, 503, 204];

const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'integr8scode-bench-webhook-'));
  const receiver = await startWebhookReceiver(STATUSES);
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    DEMO_ACCOUNT: 'false',
    NOTIFY_ALLOWED_HOSTS: '127.0.0.1',
    NOTIFY_RETRY_BASE_DELAY_MS: String(BASE_DELAY_MS),
    NOTIFY_RETRY_ATTEMPTS: '5',
  });
  const platform = await createEmbeddedPlatform(config);
  const checks: boolean[] = [];
  try {
    const userId = randomUUID();
    const now = new Date().toISOString();
    const settings = defaultSettings(userId, now);
    settings.notifications = { ...DEFAULT_PREFERENCES.notifications, channels: ['in_app', 'webhook'] };
    settings.version = 1;
    await platform.store.userSettings.save({
      user_id: userId,
      version: 1,
      changed_at: now,
      reason: null,
      changes: [],
      settings,
    });
    const secret = newWebhookSecret();
    await platform.store.notificationSubscriptions.put({
      ...defaultSubscription(userId, 'webhook', 'UTC', now),
      enabled: true,
      webhook_url: receiver.url,
      webhook_secret: secret,
    });
    const execution = {
      ...newExecution({
        execution_id: randomUUID(),
        user_id: userId,
        script: 'raise SystemExit(3)',
        stdin: '',
        lang: 'python',
        lang_version: '3.12',
        priority: 'normal',
        created_at: now,
      }),
      status: 'running' as const,
    };
    await platform.store.executions.create(execution);
    const event = executionFailed(execution.execution_id);

    const notify = notifyFunction.createApp(platform);
    const response = await notify.fetch(toBinaryRequest(event, 'http://notify.local/'));
    console.log(`event accepted by notify: HTTP ${response.status}`);
    const deadline = performance.now() + 20 * BASE_DELAY_MS + 10_000;
    while (receiver.hits.length < STATUSES.length && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));

    console.log(
      `receiver answers ${STATUSES.join(', ')}; backoff base ${BASE_DELAY_MS} ms, doubling; slack ${SLACK_MS} ms`,
    );
    const first = receiver.hits[0]?.at ?? 0;
    for (const [index, hit] of receiver.hits.entries()) {
      const signed = verifyWebhook(
        secret,
        {
          timestamp: hit.headers['x-integr8scode-timestamp'] as string | undefined,
          signature: hit.headers['x-integr8scode-signature'] as string | undefined,
        },
        hit.body,
      );
      checks.push(signed);
      let timing = 'first attempt';
      if (index > 0) {
        const expected = BASE_DELAY_MS * 2 ** (index - 1);
        const waited = hit.at - receiver.hits[index - 1]!.at;
        const within = waited >= expected - 5 && waited <= expected + SLACK_MS;
        checks.push(within);
        timing = `waited ${waited.toFixed(1)} ms, backoff ${expected} ms: ${verdict(within)}`;
      }
      console.log(
        `attempt ${index + 1} at +${(hit.at - first).toFixed(1).padStart(7)} ms  answered ${hit.status}  ` +
          `${timing}  signature ${signed ? 'verified' : 'INVALID'}: ${verdict(signed)}`,
      );
    }
    checks.push(receiver.hits.length === STATUSES.length);
    console.log(
      `attempts received: ${receiver.hits.length} of ${STATUSES.length}: ${verdict(receiver.hits.length === STATUSES.length)}`,
    );

    // The log is written right after the answer; give the runner a moment to record the last one.
    let delivered = false;
    for (let i = 0; i < 100 && !delivered; i++) {
      const [entry] = (
        await platform.store.notificationDeliveries.listForUser(userId, {}, { limit: 1, offset: 0 })
      ).items;
      delivered = entry?.status === 'delivered';
      if (!delivered) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const [delivery] = (
      await platform.store.notificationDeliveries.listForUser(userId, {}, { limit: 1, offset: 0 })
    ).items;
    const attempts = delivery
      ? await platform.store.notificationDeliveries.attemptsOf([delivery.delivery_id])
      : [];
    console.log(`delivery log: ${delivery?.delivery_id ?? '(none)'} ${delivery?.status ?? ''}`);
    for (const attempt of attempts)
      console.log(
        `  #${attempt.attempt} ${attempt.started_at} ${attempt.outcome.padEnd(9)} status ${attempt.status_code ?? '-'} ` +
          `${attempt.duration_ms} ms${attempt.error ? ` (${attempt.error})` : ''}`,
      );
    const logged =
      delivery?.status === 'delivered' &&
      attempts.map((a) => `${a.status_code}:${a.outcome}`).join(',') ===
        '500:failed,503:failed,204:succeeded';
    checks.push(logged);
    console.log(`delivery log has three entries, two failed and the last succeeded: ${verdict(logged)}`);
    console.log(`overall: ${verdict(checks.every(Boolean))}`);
  } finally {
    deliveryRunnerFor(platform).stop();
    await platform.close();
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (!checks.every(Boolean)) process.exitCode = 1;
}

await main();
