import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NotificationChannel } from '../../shared/domain/notification';
import type { DeliveryAttempt, DeliveryRecord } from '../../shared/domain/notification-delivery';
import type { SubscriptionRecord } from '../../shared/domain/notification-subscription';
import { DEFAULT_PREFERENCES } from '../../shared/domain/user-settings';
import type { OutboundRequest, OutboundResult } from '../../shared/http/outbound';
import { verifyWebhook } from '../../shared/http/webhook-signature';
import { aNotification, aSettingsRevision } from '../../shared/store/contracts/fixtures';
import { anAttempt } from '../../shared/store/contracts/notification-deliveries.contract';
import { aSubscription } from '../../shared/store/contracts/notification-subscriptions.contract';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import {
  backoffDelayMs,
  type DeliveryContext,
  deliveryContext,
  newDelivery,
  processDelivery,
  runDueDeliveries,
  throttledUntil,
} from './deliveries';

const USER = 'user-1';
const SECRET = 'whsec_unit-test-secret';
const START = Date.parse('2025-06-02T12:00:00.000Z');

let platform: TestPlatform;
let clock: number;
let sent: OutboundRequest[];
let answers: Partial<OutboundResult>[];
let ctx: DeliveryContext;

const ok: Partial<OutboundResult> = { status: 204 };
const failure = (status: number, extra: Partial<OutboundResult> = {}): Partial<OutboundResult> => ({
  status,
  error: `HTTP ${status}`,
  ...extra,
});

beforeEach(async () => {
  clock = START;
  platform = await createTestPlatform(
    {
      NOTIFY_RETRY_ATTEMPTS: '3',
      NOTIFY_RETRY_BASE_DELAY_MS: '1000',
      NOTIFY_RETRY_MAX_DELAY_MS: '60000',
      NOTIFY_THROTTLE_MAX: '2',
      NOTIFY_THROTTLE_WINDOW_SECONDS: '60',
      NOTIFY_WEBHOOK_TIMEOUT_SECONDS: '5',
      PUBLIC_URL: 'https://code.example.com/',
    },
    { now: () => new Date(clock) },
  );
  sent = [];
  answers = [];
  ctx = deliveryContext(platform, {
    // Each request takes 50 ms of the test's clock and answers with the next queued result.
    send: async (request) => {
      sent.push(request);
      clock += 50;
      return {
        status: null,
        error: null,
        refused: false,
        permanent: false,
        retryAfterMs: null,
        durationMs: 50,
        ...(answers.shift() ?? ok),
      };
    },
  });
  await useChannels(['in_app', 'webhook', 'slack']);
  await subscribe('webhook', { webhook_secret: SECRET });
});

/** A subscription of USER without filters or quiet hours, but for `patch`. */
const subscribe = (channel: 'webhook' | 'slack', patch: Partial<SubscriptionRecord> = {}) =>
  platform.store.notificationSubscriptions.put(
    aSubscription(channel, {
      user_id: USER,
      severities: [],
      include_tags: [],
      exclude_tags: [],
      quiet_hours_enabled: false,
      timezone: 'UTC',
      ...patch,
    }),
  );

afterEach(async () => {
  await platform.close();
});

async function useChannels(channels: NotificationChannel[]): Promise<void> {
  const current = await platform.store.userSettings.get(USER);
  const version = (current?.version ?? 0) + 1;
  await platform.store.userSettings.save(
    aSettingsRevision(version, {
      user_id: USER,
      settings: { notifications: { ...DEFAULT_PREFERENCES.notifications, channels } },
    }),
  );
}

let notifications = 0;
async function aDue(channel: 'webhook' | 'slack' = 'webhook'): Promise<DeliveryRecord> {
  notifications++;
  const delivery = newDelivery(
    aNotification({
      notification_id: `notif-${notifications}`,
      user_id: USER,
      subject: 'Execution failed',
      body: 'Execution 1 failed: <script error> & exit code 1.',
      severity: 'high',
      tags: ['execution', 'failed'],
      action_url: '/editor?execution=exec-1',
    }),
    channel,
    new Date(clock),
  );
  expect(await platform.store.notificationDeliveries.create(delivery)).toBe(true);
  return delivery;
}

/** Attempt 1 of `delivery` as a runner that stopped before it updated the delivery left it. */
const leftBehind = (delivery: DeliveryRecord, outcome: Partial<DeliveryAttempt> = {}) =>
  platform.store.notificationDeliveries.beginAttempt(
    anAttempt({
      delivery_id: delivery.delivery_id,
      user_id: USER,
      started_at: new Date(clock).toISOString(),
      ...outcome,
    }),
  );
const stored = async (delivery: DeliveryRecord) =>
  (await platform.store.notificationDeliveries.get(delivery.delivery_id))!;
const attemptsOf = (delivery: DeliveryRecord) =>
  platform.store.notificationDeliveries.attemptsOf([delivery.delivery_id]);

describe('backoff and throttle arithmetic', () => {
  it('doubles the wait after each failed attempt, up to the cap', () => {
    const settings = { NOTIFY_RETRY_BASE_DELAY_MS: 1000, NOTIFY_RETRY_MAX_DELAY_MS: 10_000 };
    expect([1, 2, 3, 4, 5, 30].map((n) => backoffDelayMs(n, settings))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('lets a request through once the oldest one that fills the window has left it', () => {
    const times = ['2025-01-01T00:00:10.000Z', '2025-01-01T00:00:20.000Z', '2025-01-01T00:00:30.000Z'];
    expect(throttledUntil(times, 4, 60_000)).toBeNull();
    expect(throttledUntil(times, 3, 60_000)?.toISOString()).toBe('2025-01-01T00:01:10.000Z');
    expect(throttledUntil(times, 2, 60_000)?.toISOString()).toBe('2025-01-01T00:01:20.000Z');
  });
});

describe('processDelivery', () => {
  it('sends a webhook signed with the subscription secret and marks it delivered', async () => {
    const delivery = await aDue();
    expect(await processDelivery(ctx, delivery)).toBe('delivered');

    const [request] = sent;
    expect(request!.url).toBe('https://hooks.example.com/integr8s?token=a&b=1');
    expect(request!.headers).toMatchObject({
      'Content-Type': 'application/json',
      'X-Integr8sCode-Delivery': delivery.delivery_id,
      'X-Integr8sCode-Attempt': '1',
      'X-Integr8sCode-Timestamp': String(START / 1000),
    });
    const headers = {
      timestamp: request!.headers['X-Integr8sCode-Timestamp'],
      signature: request!.headers['X-Integr8sCode-Signature'],
    };
    expect(verifyWebhook(SECRET, headers, request!.body, { now: START })).toBe(true);
    expect(verifyWebhook('whsec_other', headers, request!.body, { now: START })).toBe(false);
    expect(JSON.parse(request!.body)).toEqual({
      type: 'notification',
      delivery_id: delivery.delivery_id,
      notification_id: delivery.notification_id,
      subject: 'Execution failed',
      body: 'Execution 1 failed: <script error> & exit code 1.',
      severity: 'high',
      tags: ['execution', 'failed'],
      action_url: '/editor?execution=exec-1',
      url: 'https://code.example.com/editor?execution=exec-1',
      timestamp: delivery.message.created_at,
    });

    expect(await stored(delivery)).toMatchObject({
      status: 'delivered',
      attempts: 1,
      next_attempt_at: null,
      last_status_code: 204,
      delivered_at: new Date(START + 50).toISOString(),
    });
    expect(await attemptsOf(delivery)).toEqual([
      expect.objectContaining({
        attempt: 1,
        target: 'https://hooks.example.com',
        outcome: 'succeeded',
        status_code: 204,
        error: null,
        duration_ms: 50,
        started_at: new Date(START).toISOString(),
        finished_at: new Date(START + 50).toISOString(),
      }),
    ]);
  });

  it('sends Slack its incoming-webhook format, escaped, unsigned', async () => {
    await subscribe('slack');
    const delivery = await aDue('slack');
    expect(await processDelivery(ctx, delivery)).toBe('delivered');
    const [request] = sent;
    expect(request!.url).toBe('https://hooks.slack.com/services/T0/B0/x');
    expect(request!.headers).not.toHaveProperty('X-Integr8sCode-Signature');
    const message = JSON.parse(request!.body);
    expect(message.text).toBe('Execution failed: Execution 1 failed: <script error> & exit code 1.');
    expect(message.blocks[0]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: '*Execution failed*\nExecution 1 failed: &lt;script error&gt; &amp; exit code 1.',
      },
    });
    expect(message.blocks[1].elements[0].text).toContain('high · `execution` `failed`');
    expect(message.blocks[2].elements[0]).toMatchObject({
      type: 'button',
      url: 'https://code.example.com/editor?execution=exec-1',
    });
    // The log keeps the origin only: a Slack webhook's path is its secret.
    expect((await attemptsOf(delivery))[0]!.target).toBe('https://hooks.slack.com');
  });

  it('retries with exponential backoff and gives up after the configured attempts', async () => {
    // Retries count against the throttle too; here it stays out of the way.
    ctx = { ...ctx, settings: { ...ctx.settings, NOTIFY_THROTTLE_MAX: 100 } };
    const delivery = await aDue();
    answers.push(failure(500), failure(503), failure(502));

    expect(await runDueDeliveries(ctx)).toEqual({ retry: 1 });
    expect(await stored(delivery)).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_status_code: 500,
      last_error: 'HTTP 500',
      next_attempt_at: new Date(START + 50 + 1000).toISOString(),
    });
    // Not due yet: nothing happens.
    clock = START + 50 + 999;
    expect(await runDueDeliveries(ctx)).toEqual({});
    clock = START + 50 + 1000;
    expect(await runDueDeliveries(ctx)).toEqual({ retry: 1 });
    const second = await stored(delivery);
    expect(second.next_attempt_at).toBe(new Date(clock + 2000).toISOString());
    clock = Date.parse(second.next_attempt_at!);
    expect(await runDueDeliveries(ctx)).toEqual({ failed: 1 });

    expect(sent).toHaveLength(3);
    expect(sent.map((r) => r.headers['X-Integr8sCode-Attempt'])).toEqual(['1', '2', '3']);
    expect(await stored(delivery)).toMatchObject({ status: 'failed', attempts: 3, next_attempt_at: null });
    expect((await attemptsOf(delivery)).map((a) => [a.attempt, a.outcome, a.status_code])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 503],
      [3, 'failed', 502],
    ]);
    expect(await platform.store.notificationDeliveries.nextDue()).toBeNull();
  });

  it("waits as long as the receiver's Retry-After asks, within the longest wait", async () => {
    const delivery = await aDue();
    answers.push(failure(429, { retryAfterMs: 30_000 }));
    await processDelivery(ctx, delivery);
    expect((await stored(delivery)).next_attempt_at).toBe(new Date(START + 50 + 30_000).toISOString());
    const later = await aDue();
    answers.push(failure(503, { retryAfterMs: 3_600_000 }));
    await processDelivery(ctx, later);
    expect((await stored(later)).next_attempt_at).toBe(new Date(clock + 60_000).toISOString());
  });

  it('fails at once, without retries, when the target is refused', async () => {
    const delivery = await aDue();
    answers.push({ error: 'refused: hooks.example.com resolves to 10.0.0.1', refused: true });
    expect(await processDelivery(ctx, delivery)).toBe('failed');
    expect(await stored(delivery)).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: expect.stringMatching(/10\.0\.0\.1/),
    });
  });

  it('holds deliveries during quiet hours and sends them when the quiet hours end', async () => {
    await subscribe('webhook', {
      quiet_hours_enabled: true,
      quiet_hours_start: '11:00',
      quiet_hours_end: '13:30',
    });
    const delivery = await aDue();
    expect(await runDueDeliveries(ctx)).toEqual({ held: 1 });
    expect(sent).toEqual([]);
    expect(await stored(delivery)).toMatchObject({
      status: 'pending',
      attempts: 0,
      held_for: 'quiet_hours',
      next_attempt_at: '2025-06-02T13:30:00.000Z',
    });
    expect(await platform.store.notificationDeliveries.nextDue()).toBe('2025-06-02T13:30:00.000Z');
    clock = Date.parse('2025-06-02T13:30:00.000Z');
    expect(await runDueDeliveries(ctx)).toEqual({ delivered: 1 });
    expect(await stored(delivery)).toMatchObject({ status: 'delivered', held_for: null });
  });

  it('throttles a user channel by delaying, never dropping', async () => {
    const deliveries = [await aDue(), await aDue(), await aDue(), await aDue()];
    expect(await runDueDeliveries(ctx)).toEqual({ delivered: 2, held: 2 });
    const waiting = (await Promise.all(deliveries.map(stored))).filter((d) => d.status === 'pending');
    // Two requests started at START and START + 50: the next may go when the first leaves the window.
    expect(waiting).toHaveLength(2);
    for (const delivery of waiting)
      expect(delivery).toMatchObject({
        held_for: 'throttle',
        attempts: 0,
        next_attempt_at: new Date(START + 60_000).toISOString(),
      });
    clock = START + 59_999;
    expect(await runDueDeliveries(ctx)).toEqual({});
    clock = START + 60_000;
    expect(await runDueDeliveries(ctx)).toEqual({ delivered: 2 });
    for (const delivery of deliveries) expect((await stored(delivery)).status).toBe('delivered');
    const starts = (
      await platform.store.notificationDeliveries.attemptsOf(deliveries.map((d) => d.delivery_id))
    )
      .map((a) => Date.parse(a.started_at) - START)
      .sort((a, b) => a - b);
    expect(starts).toEqual([0, 50, 60_000, 60_050]);
  });

  it('stops a delivery whose channel was turned off, in the subscription or in the settings', async () => {
    const first = await aDue();
    await platform.store.notificationSubscriptions.put({
      ...(await platform.store.notificationSubscriptions.get(USER, 'webhook'))!,
      enabled: false,
    });
    expect(await processDelivery(ctx, first)).toBe('cancelled');
    expect(await stored(first)).toMatchObject({
      status: 'cancelled',
      next_attempt_at: null,
      last_error: expect.stringMatching(/webhook channel was turned off/),
    });

    await platform.store.notificationSubscriptions.put({
      ...(await platform.store.notificationSubscriptions.get(USER, 'webhook'))!,
      enabled: true,
    });
    await useChannels(['in_app']);
    const second = await aDue();
    expect(await processDelivery(ctx, second)).toBe('cancelled');
    expect(sent).toEqual([]);
  });

  it('sends each attempt once however many runners race for it', async () => {
    const delivery = await aDue();
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const racing: DeliveryContext = {
      ...ctx,
      send: async (request) => {
        sent.push(request);
        await slow;
        return {
          status: 204,
          error: null,
          refused: false,
          permanent: false,
          retryAfterMs: null,
          durationMs: 1,
        };
      },
    };
    const runs = [runDueDeliveries(racing), runDueDeliveries(racing), processDelivery(racing, delivery)];
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await Promise.all(runs);
    expect(sent).toHaveLength(1);
    expect(await attemptsOf(delivery)).toHaveLength(1);
    expect((await stored(delivery)).status).toBe('delivered');
  });

  it('takes over an attempt its sender abandoned, and leaves one in progress alone', async () => {
    const delivery = await aDue();
    await leftBehind(delivery);
    // Its sender may still be waiting for an answer: nothing is sent.
    expect(await processDelivery(ctx, delivery)).toBe('busy');
    expect(sent).toEqual([]);

    // Past the request timeout and the grace: the sender is gone; the attempt counts as failed.
    clock += 5_000 + 30_000;
    expect(await processDelivery(ctx, delivery)).toBe('retry');
    expect((await attemptsOf(delivery))[0]).toMatchObject({
      attempt: 1,
      outcome: 'abandoned',
      error: expect.stringMatching(/stopped/),
    });
    const retried = await stored(delivery);
    expect(retried).toMatchObject({ status: 'pending', attempts: 1 });
    clock = Date.parse(retried.next_attempt_at!);
    expect(await runDueDeliveries(ctx)).toEqual({ delivered: 1 });
    expect(sent.map((r) => r.headers['X-Integr8sCode-Attempt'])).toEqual(['2']);
  });

  it('settles a delivery from an attempt that finished but was never recorded on it, without sending again', async () => {
    const delivery = await aDue();
    await leftBehind(delivery, {
      finished_at: new Date(clock + 20).toISOString(),
      duration_ms: 20,
      outcome: 'succeeded',
      status_code: 200,
    });
    expect(await processDelivery(ctx, delivery)).toBe('delivered');
    expect(sent).toEqual([]);
    expect(await stored(delivery)).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200 });
  });
});
