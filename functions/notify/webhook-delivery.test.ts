/**
 * Webhook delivery end to end, on a real HTTP receiver on 127.0.0.1 (reachable through the operator
 * allow-list): the subscription is made through the API, an execution finishes, notify's own runner
 * sends, the receiver fails twice and then accepts; and a delivery left pending by a process that
 * stopped is sent by the next one.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/config';
import { DEFAULT_PREFERENCES } from '../../shared/domain/user-settings';
import { toBinaryRequest } from '../../shared/events/cloudevents';
import { executionFailed } from '../../shared/events/sample-events';
import { verifyWebhook } from '../../shared/http/webhook-signature';
import { createEmbeddedPlatform, type EmbeddedPlatform } from '../../shared/platform/embedded';
import { routeMatches } from '../../shared/platform/function';
import { anExecution, aSettingsRevision, aUser } from '../../shared/store/contracts/fixtures';
import { authHeaders, type RequestableApp, registerAndLogin } from '../../test/support/http';
import { startWebhookReceiver } from '../../test/support/webhook-receiver';
import { authFunction } from '../auth/index';
import { notificationsFunction } from '../notifications/index';
import { userSettingsFunction } from '../user-settings/index';
import { deliveryRunnerFor } from './deliveries';
import { notifyFunction } from './index';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(statuses: number[]) {
  const started = await startWebhookReceiver(statuses);
  cleanups.push(() => started.close());
  return started;
}

async function openPlatform(dataDir: string, env: Record<string, string>): Promise<EmbeddedPlatform> {
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_ENABLED: 'false',
    DEMO_ACCOUNT: 'false',
    NOTIFY_ALLOWED_HOSTS: '127.0.0.1',
    ...env,
  });
  return createEmbeddedPlatform(config);
}

function freshDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'integr8scode-webhook-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function finishExecution(
  platform: EmbeddedPlatform,
  userId: string,
  notify = notifyFunction.createApp(platform),
) {
  const execution = anExecution({ execution_id: randomUUID(), user_id: userId, status: 'running' });
  await platform.store.executions.create(execution);
  const event = executionFailed(execution.execution_id);
  const response = await notify.fetch(toBinaryRequest(event, 'http://notify.local/'));
  expect(response.ok).toBe(true);
  return execution;
}

describe('webhook delivery to a real receiver', { timeout: 30_000 }, () => {
  it('is delivered on the third attempt after two failures, signed, with every attempt logged', async () => {
    const BASE_DELAY_MS = 200;
    const platform = await openPlatform(freshDataDir(), {
      NOTIFY_RETRY_BASE_DELAY_MS: String(BASE_DELAY_MS),
      NOTIFY_RETRY_ATTEMPTS: '5',
    });
    cleanups.push(async () => {
      deliveryRunnerFor(platform).stop();
      await platform.close();
    });
    const target = await receiver([500, 503, 204]);

    // The user sets the webhook up through the API, as the web app does.
    const apps = [authFunction, userSettingsFunction, notificationsFunction].map((fn) => ({
      fn,
      app: fn.createApp(platform),
    }));
    const gateway: RequestableApp = {
      request: (input, init) => {
        const pathname = new URL(input, 'http://localhost').pathname;
        return apps
          .find(({ fn }) => fn.routes.some((p) => routeMatches(p, pathname)))!
          .app.request(input, init);
      },
    };
    const user = await registerAndLogin(gateway);
    const json = (method: string, body: unknown) => ({
      method,
      headers: { ...authHeaders(user), 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(
      (
        await gateway.request(
          '/api/v1/user/settings/notifications',
          json('PUT', { channels: ['in_app', 'webhook'] }),
        )
      ).status,
    ).toBe(200);
    const saved = await gateway.request(
      '/api/v1/notifications/subscriptions/webhook',
      json('PUT', { enabled: true, webhook_url: target.url }),
    );
    expect(saved.status).toBe(200);
    const { webhook_secret: secret } = (await saved.json()) as { webhook_secret: string };

    await finishExecution(platform, user.userId);
    await expect.poll(() => target.hits.length, { timeout: 10_000, interval: 20 }).toBe(3);

    // Each attempt waited its backoff: 200 ms after the first failure, 400 ms after the second.
    const gaps = [target.hits[1]!.at - target.hits[0]!.at, target.hits[2]!.at - target.hits[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(BASE_DELAY_MS - 5);
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * BASE_DELAY_MS - 5);
    expect(gaps[0]).toBeLessThan(BASE_DELAY_MS + 1000);
    expect(gaps[1]).toBeLessThan(2 * BASE_DELAY_MS + 1000);
    for (const [index, hit] of target.hits.entries()) {
      expect(hit.headers['content-type']).toBe('application/json');
      expect(hit.headers['x-integr8scode-attempt']).toBe(String(index + 1));
      expect(hit.headers['x-integr8scode-delivery']).toBe(target.hits[0]!.headers['x-integr8scode-delivery']);
      const signed = {
        timestamp: hit.headers['x-integr8scode-timestamp'] as string,
        signature: hit.headers['x-integr8scode-signature'] as string,
      };
      expect(verifyWebhook(secret, signed, hit.body)).toBe(true);
      expect(verifyWebhook(secret, signed, hit.body.replace('failed', 'passed'))).toBe(false);
      expect(JSON.parse(hit.body)).toMatchObject({
        type: 'notification',
        subject: 'Execution failed',
        severity: 'high',
      });
    }

    // The user's delivery log shows the delivery and its three attempts.
    await expect
      .poll(async () => {
        const log = await gateway.request('/api/v1/notifications/deliveries', { headers: authHeaders(user) });
        return ((await log.json()) as { deliveries: { status: string }[] }).deliveries[0]?.status;
      })
      .toBe('delivered');
    const log = await gateway.request('/api/v1/notifications/deliveries', { headers: authHeaders(user) });
    const { deliveries } = (await log.json()) as {
      deliveries: {
        status: string;
        attempts: { attempt: number; status_code: number; outcome: string; duration_ms: number }[];
      }[];
    };
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.attempts.map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
      [1, 500, 'failed'],
      [2, 503, 'failed'],
      [3, 204, 'succeeded'],
    ]);
    for (const attempt of deliveries[0]!.attempts) expect(attempt.duration_ms).toBeGreaterThan(0);
  });

  it('sends a delivery left pending by a process that stopped once the next process starts', async () => {
    const dataDir = freshDataDir();
    const env = { NOTIFY_RETRY_BASE_DELAY_MS: '1000', NOTIFY_RETRY_ATTEMPTS: '5' };
    const target = await receiver([503, 200]);
    const first = await openPlatform(dataDir, env);
    const userId = 'user-1';
    await first.store.users.create(aUser());
    await first.store.userSettings.save(
      aSettingsRevision(1, {
        user_id: userId,
        settings: {
          notifications: { ...DEFAULT_PREFERENCES.notifications, channels: ['in_app', 'webhook'] },
        },
      }),
    );
    await first.store.notificationSubscriptions.put({
      user_id: userId,
      channel: 'webhook',
      severities: [],
      include_tags: [],
      exclude_tags: [],
      enabled: true,
      webhook_url: target.url,
      slack_webhook: null,
      quiet_hours_enabled: false,
      quiet_hours_start: null,
      quiet_hours_end: null,
      timezone: 'UTC',
      batch_interval_minutes: 60,
      webhook_secret: 'whsec_restart',
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
    });
    await finishExecution(first, userId);
    await expect.poll(() => target.hits.length, { timeout: 5_000, interval: 20 }).toBe(1);
    // The process stops between two attempts.
    deliveryRunnerFor(first).stop();
    await first.close();

    const second = await openPlatform(dataDir, env);
    cleanups.push(async () => {
      deliveryRunnerFor(second).stop();
      await second.close();
    });
    // Starting the function starts its runner, which finds the pending delivery and sends it when due.
    notifyFunction.createApp(second);
    await expect.poll(() => target.hits.length, { timeout: 10_000, interval: 20 }).toBe(2);
    expect(target.hits[1]!.at - target.hits[0]!.at).toBeGreaterThanOrEqual(995);
    const [delivery] = (
      await second.store.notificationDeliveries.listForUser(userId, {}, { limit: 10, offset: 0 })
    ).items;
    await expect
      .poll(async () => (await second.store.notificationDeliveries.get(delivery!.delivery_id))?.status)
      .toBe('delivered');
    const attempts = await second.store.notificationDeliveries.attemptsOf([delivery!.delivery_id]);
    expect(attempts.map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
      [1, 503, 'failed'],
      [2, 200, 'succeeded'],
    ]);
  });
});
