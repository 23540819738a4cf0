import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../shared/domain/execution';
import { toNotificationResponse } from '../../shared/domain/notification';
import type { Preferences } from '../../shared/domain/user-settings';
import { DEFAULT_PREFERENCES } from '../../shared/domain/user-settings';
import { toBinaryRequest } from '../../shared/events/cloudevents';
import type { EventPublisher } from '../../shared/events/publisher';
import type { EventOf } from '../../shared/events/schemas';
import { userChannel } from '../../shared/fanout/port';
import type { OutboundRequest } from '../../shared/http/outbound';
import type { Platform } from '../../shared/platform/platform';
import { anExecution, aSettingsRevision } from '../../shared/store/contracts/fixtures';
import { aSubscription } from '../../shared/store/contracts/notification-subscriptions.contract';
import { createTestPlatform } from '../../test/support/platform';
import { createNotifyApp, PING_EVENT_TYPE } from './app';
import { DeliveryRunner, deliveryContext, deliveryIdFor } from './deliveries';
import { notifyFunction } from './index';

type TestPlatform = Awaited<ReturnType<typeof createTestPlatform>>;

const SINK_URL = 'http://notify.local/';
const retryable = (status: number) => status >= 500 || [404, 408, 409, 429].includes(status);

let platform: TestPlatform;
let owner: string;

beforeEach(async () => {
  platform = await createTestPlatform();
  owner = await createUser(platform, 'ada');
});

afterEach(async () => {
  await platform.close();
});

async function createUser(target: Platform, username: string): Promise<string> {
  const userId = randomUUID();
  const at = target.now().toISOString();
  await target.store.users.create({
    user_id: userId,
    username,
    email: `${username}@example.com`,
    role: 'user',
    is_active: true,
    is_superuser: false,
    password_hash: 'not-used-here',
    created_at: at,
    updated_at: at,
  });
  return userId;
}

async function createExecution(userId: string): Promise<ExecutionRecord> {
  const at = platform.now().toISOString();
  const execution = anExecution({
    execution_id: randomUUID(),
    user_id: userId,
    script: 'print("hi")',
    status: 'running',
    created_at: at,
    scheduled_at: at,
    started_at: at,
  });
  await platform.store.executions.create(execution);
  return execution;
}

const outputFields = {
  stdout: 'hi\n',
  stderr: '',
  stdout_truncated: false,
  stderr_truncated: false,
  stdout_bytes: 3,
  stderr_bytes: 0,
  resource_usage: {
    execution_time_wall_seconds: 0.25,
    cpu_time_jiffies: 2,
    clk_tck_hertz: 100,
    peak_memory_kb: 8000,
    cpu_time_seconds: 0.02,
  },
};

const completed = (executionId: string) =>
  platform.events.create<EventOf<'execution_completed'>>(
    { event_type: 'execution_completed', execution_id: executionId, exit_code: 0, ...outputFields },
    {
      correlationId: `corr-${executionId}`,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
  );

async function deliver(target: Platform, event: Parameters<typeof toBinaryRequest>[0]): Promise<Response> {
  return notifyFunction.createApp(target).fetch(toBinaryRequest(event, SINK_URL));
}

async function collectPushes(userId: string): Promise<unknown[]> {
  const received: unknown[] = [];
  await platform.fanout.subscribe(userChannel(userId), (message) => received.push(JSON.parse(message)));
  return received;
}

async function notificationsOf(userId: string) {
  return (await platform.store.notifications.list(userId, {}, { limit: 100, offset: 0 })).items;
}

async function announcementsFor(notificationId: string) {
  const stored = await platform.store.events.listByAggregate(notificationId);
  return stored.map((s) => s.event).filter((e) => e.event_type === 'notification_created');
}

describe('notify function', () => {
  it('declares the four terminal execution events as its triggers and no API routes', () => {
    expect([...notifyFunction.triggers].sort()).toEqual(
      ['execution_cancelled', 'execution_completed', 'execution_failed', 'execution_timeout'].sort(),
    );
    expect(notifyFunction.routes).toEqual([]);
  });

  it('stores a delivered in-app notification for the owner, pushes it live and announces it', async () => {
    const execution = await createExecution(owner);
    const pushes = await collectPushes(owner);
    const event = completed(execution.execution_id);

    const response = await deliver(platform, event);
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(300);

    const [notification, ...others] = await notificationsOf(owner);
    expect(others).toHaveLength(0);
    expect(notification).toMatchObject({
      user_id: owner,
      channel: 'in_app',
      status: 'delivered',
      severity: 'medium',
      subject: 'Execution completed',
      action_url: `/editor?execution=${execution.execution_id}`,
      tags: ['execution', 'completed', 'entity:execution', `exec:${execution.execution_id}`],
      source_event_id: event.event_id,
      read_at: null,
    });
    expect(notification!.body).toContain('0.25 s');
    expect(notification!.body).toContain('exit code 0');
    expect(await platform.store.notifications.countUnread(owner)).toBe(1);

    expect(pushes).toEqual([{ type: 'notification', notification: toNotificationResponse(notification!) }]);

    const announcements = await announcementsFor(notification!.notification_id);
    expect(announcements).toHaveLength(1);
    expect(announcements[0]).toMatchObject({
      event_type: 'notification_created',
      notification_id: notification!.notification_id,
      user_id: owner,
      subject: notification!.subject,
      severity: 'medium',
      channels: ['in_app'],
      metadata: {
        user_id: owner,
        correlation_id: `corr-${execution.execution_id}`,
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    });
  });

  it('creates one notification however often the same event is delivered', async () => {
    const execution = await createExecution(owner);
    const event = completed(execution.execution_id);
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await deliver(platform, event);
      expect(response.ok).toBe(true);
    }
    const notifications = await notificationsOf(owner);
    expect(notifications).toHaveLength(1);
    expect(await announcementsFor(notifications[0]!.notification_id)).toHaveLength(1);
  });

  it('never drops a notification, however many executions finish in a row', async () => {
    const executions = await Promise.all(Array.from({ length: 12 }, () => createExecution(owner)));
    for (const execution of executions) {
      expect((await deliver(platform, completed(execution.execution_id))).ok).toBe(true);
    }
    const notifications = await notificationsOf(owner);
    expect(notifications.map((n) => n.tags[3]).sort()).toEqual(
      executions.map((e) => `exec:${e.execution_id}`).sort(),
    );
  });

  it('notifies only the owner of the execution', async () => {
    const other = await createUser(platform, 'bob');
    const otherPushes = await collectPushes(other);
    const execution = await createExecution(owner);
    expect((await deliver(platform, completed(execution.execution_id))).ok).toBe(true);
    expect(await notificationsOf(owner)).toHaveLength(1);
    expect(await notificationsOf(other)).toHaveLength(0);
    expect(otherPushes).toHaveLength(0);
  });

  it('notifies failures, timeouts and cancellations with their own severity and tag', async () => {
    const [failed, timedOut, cancelled] = await Promise.all([
      createExecution(owner),
      createExecution(owner),
      createExecution(owner),
    ]);
    const events = [
      platform.events.create<EventOf<'execution_failed'>>({
        event_type: 'execution_failed',
        execution_id: failed.execution_id,
        exit_code: 2,
        error_type: 'script_error',
        error_message: 'NameError: name "x" is not defined',
        ...outputFields,
      }),
      platform.events.create<EventOf<'execution_timeout'>>({
        event_type: 'execution_timeout',
        execution_id: timedOut.execution_id,
        timeout_seconds: 5,
        ...outputFields,
      }),
      platform.events.create<EventOf<'execution_cancelled'>>({
        event_type: 'execution_cancelled',
        execution_id: cancelled.execution_id,
        cancelled_by: owner,
        reason: '',
        force_terminated: true,
      }),
    ];
    for (const event of events) expect((await deliver(platform, event)).ok).toBe(true);

    const byExecution = new Map((await notificationsOf(owner)).map((n) => [n.tags[3], n]));
    expect(byExecution.get(`exec:${failed.execution_id}`)).toMatchObject({
      severity: 'high',
      tags: expect.arrayContaining(['failed']),
    });
    expect(byExecution.get(`exec:${failed.execution_id}`)!.body).toContain('script error, exit code 2');
    expect(byExecution.get(`exec:${timedOut.execution_id}`)).toMatchObject({
      severity: 'high',
      tags: expect.arrayContaining(['timeout']),
    });
    expect(byExecution.get(`exec:${timedOut.execution_id}`)!.body).toContain('5 s time limit');
    expect(byExecution.get(`exec:${cancelled.execution_id}`)).toMatchObject({
      severity: 'low',
      tags: expect.arrayContaining(['cancelled']),
    });
  });

  it('rejects an event for an unknown execution for good instead of retrying it', async () => {
    const response = await deliver(platform, completed(randomUUID()));
    expect(response.ok).toBe(false);
    expect(retryable(response.status)).toBe(false);
    expect(await notificationsOf(owner)).toHaveLength(0);
  });

  it('answers a redelivery after a failed live push with the same notification, pushed then', async () => {
    const execution = await createExecution(owner);
    const pushes = await collectPushes(owner);
    let failNextPush = true;
    const flakyFanout: Platform = {
      ...platform,
      fanout: {
        publish: async (channel, message) => {
          if (failNextPush) {
            failNextPush = false;
            throw new Error('fan-out unavailable');
          }
          await platform.fanout.publish(channel, message);
        },
        subscribe: (channel, onMessage) => platform.fanout.subscribe(channel, onMessage),
        close: () => platform.fanout.close(),
      },
    };
    const event = completed(execution.execution_id);

    const first = await deliver(flakyFanout, event);
    expect(retryable(first.status)).toBe(true);
    const second = await deliver(flakyFanout, event);
    expect(second.ok).toBe(true);

    const notifications = await notificationsOf(owner);
    expect(notifications).toHaveLength(1);
    expect(pushes).toEqual([
      { type: 'notification', notification: toNotificationResponse(notifications[0]!) },
    ]);
    expect(await announcementsFor(notifications[0]!.notification_id)).toHaveLength(1);
  });

  it('announces a notification once even when the bus failed after the announcement was stored', async () => {
    const execution = await createExecution(owner);
    const pushes = await collectPushes(owner);
    let failNextPublish = true;
    // Same publisher, but the first publish stores its event and then reports the bus as unreachable.
    const events: EventPublisher = Object.create(platform.events);
    events.publish = async (event) => {
      const stored = await platform.events.publish(event);
      if (failNextPublish) {
        failNextPublish = false;
        throw new Error('bus unavailable');
      }
      return stored;
    };
    const flakyBus: Platform = { ...platform, events };
    const event = completed(execution.execution_id);

    expect(retryable((await deliver(flakyBus, event)).status)).toBe(true);
    expect((await deliver(flakyBus, event)).ok).toBe(true);

    const notifications = await notificationsOf(owner);
    expect(notifications).toHaveLength(1);
    expect(await announcementsFor(notifications[0]!.notification_id)).toHaveLength(1);
    // The live push is at least once; a client recognises the repeat by its notification_id.
    expect(
      new Set(
        pushes.map((p) => (p as { notification: { notification_id: string } }).notification.notification_id),
      ),
    ).toEqual(new Set([notifications[0]!.notification_id]));
  });
});

describe('notify: preferences, subscriptions and deliveries', () => {
  let requests: OutboundRequest[];
  let app: ReturnType<typeof createNotifyApp>;
  let runner: DeliveryRunner;

  beforeEach(() => {
    requests = [];
    // The runner sends to a fake endpoint that accepts everything, and only when a test asks it to.
    runner = new DeliveryRunner(
      deliveryContext(platform, {
        send: async (request) => {
          requests.push(request);
          return {
            status: 200,
            error: null,
            refused: false,
            permanent: false,
            retryAfterMs: null,
            durationMs: 1,
          };
        },
      }),
    );
    app = createNotifyApp(platform, { runner: null });
  });

  const send = (event: Parameters<typeof toBinaryRequest>[0]) => app.fetch(toBinaryRequest(event, SINK_URL));

  async function prefer(notifications: Partial<Preferences['notifications']>): Promise<void> {
    await platform.store.userSettings.save(
      aSettingsRevision(1, {
        user_id: owner,
        settings: { notifications: { ...DEFAULT_PREFERENCES.notifications, ...notifications } },
      }),
    );
  }

  async function subscribe(channel: 'in_app' | 'webhook', patch: Parameters<typeof aSubscription>[1] = {}) {
    await platform.store.notificationSubscriptions.put(
      aSubscription(channel, {
        user_id: owner,
        severities: [],
        include_tags: [],
        exclude_tags: [],
        quiet_hours_enabled: false,
        ...patch,
      }),
    );
  }

  const failed = (executionId: string) =>
    platform.events.create<EventOf<'execution_failed'>>({
      event_type: 'execution_failed',
      execution_id: executionId,
      exit_code: 1,
      error_type: 'script_error',
      error_message: 'boom',
      ...outputFields,
    });

  const deliveriesOf = async (userId: string) =>
    (await platform.store.notificationDeliveries.listForUser(userId, {}, { limit: 100, offset: 0 })).items;

  it('honours the settings toggles: no notification at all for a kind of event turned off', async () => {
    await prefer({ execution_completed: false, channels: ['in_app', 'webhook'] });
    await subscribe('webhook');
    const quiet = await createExecution(owner);
    expect((await send(completed(quiet.execution_id))).ok).toBe(true);
    expect(await notificationsOf(owner)).toEqual([]);
    expect(await deliveriesOf(owner)).toEqual([]);

    const loud = await createExecution(owner);
    expect((await send(failed(loud.execution_id))).ok).toBe(true);
    expect((await notificationsOf(owner)).map((n) => n.subject)).toEqual(['Execution failed']);
    expect(await deliveriesOf(owner)).toHaveLength(1);
  });

  it('stores a pending delivery for an enabled webhook once per event, and announces its channels', async () => {
    await prefer({ channels: ['in_app', 'webhook'] });
    await subscribe('webhook');
    const execution = await createExecution(owner);
    const event = failed(execution.execution_id);
    for (let i = 0; i < 3; i++) expect((await send(event)).ok).toBe(true);

    const [notification] = await notificationsOf(owner);
    const deliveries = await deliveriesOf(owner);
    expect(deliveries).toEqual([
      expect.objectContaining({
        delivery_id: deliveryIdFor(notification!.notification_id, 'webhook'),
        notification_id: notification!.notification_id,
        channel: 'webhook',
        status: 'pending',
        attempts: 0,
        message: expect.objectContaining({ subject: 'Execution failed', severity: 'high' }),
      }),
    ]);
    const [announcement] = await announcementsFor(notification!.notification_id);
    expect(announcement).toMatchObject({ channels: ['in_app', 'webhook'] });

    // The runner sends it.
    expect(await runner.kick()).toEqual({ delivered: 1 });
    expect(requests.map((r) => JSON.parse(r.body).notification_id)).toEqual([notification!.notification_id]);
  });

  it('sends to a webhook without an in-app copy when in-app is not among the channels', async () => {
    await prefer({ channels: ['webhook'] });
    await subscribe('webhook');
    const execution = await createExecution(owner);
    const pushes = await collectPushes(owner);
    expect((await send(completed(execution.execution_id))).ok).toBe(true);
    expect(await notificationsOf(owner)).toEqual([]);
    expect(pushes).toEqual([]);
    const [delivery] = await deliveriesOf(owner);
    expect(delivery).toMatchObject({ channel: 'webhook', status: 'pending' });
    expect(await announcementsFor(delivery!.notification_id)).toEqual([
      expect.objectContaining({ channels: ['webhook'] }),
    ]);
  });

  it('makes no delivery for a webhook the settings do not allow, or whose filters keep the notification out', async () => {
    await subscribe('webhook');
    const notAllowed = await createExecution(owner);
    expect((await send(failed(notAllowed.execution_id))).ok).toBe(true);
    expect(await deliveriesOf(owner)).toEqual([]);

    await prefer({ channels: ['in_app', 'webhook'] });
    await subscribe('webhook', { severities: ['urgent'] });
    const filtered = await createExecution(owner);
    expect((await send(failed(filtered.execution_id))).ok).toBe(true);
    await subscribe('webhook', { exclude_tags: ['failed'] });
    const excluded = await createExecution(owner);
    expect((await send(failed(excluded.execution_id))).ok).toBe(true);
    expect(await deliveriesOf(owner)).toEqual([]);
    expect(await notificationsOf(owner)).toHaveLength(3);
  });

  it('applies in-app filters to the inbox, and in-app quiet hours to the live push only', async () => {
    await subscribe('in_app', { severities: ['high'] });
    const medium = await createExecution(owner);
    expect((await send(completed(medium.execution_id))).ok).toBe(true);
    expect(await notificationsOf(owner)).toEqual([]);

    await subscribe('in_app', {
      quiet_hours_enabled: true,
      quiet_hours_start: '00:00',
      quiet_hours_end: '23:59',
      timezone: 'UTC',
    });
    const pushes = await collectPushes(owner);
    const atNight = await createExecution(owner);
    expect((await send(completed(atNight.execution_id))).ok).toBe(true);
    const stored = await notificationsOf(owner);
    // 23:59 to 00:00 is the only minute of the day outside these quiet hours.
    const minuteOfDay = platform.now().getUTCHours() * 60 + platform.now().getUTCMinutes();
    expect(stored).toHaveLength(1);
    expect(pushes).toHaveLength(minuteOfDay === 23 * 60 + 59 ? 1 : 0);
  });

  it("sends the due deliveries when Knative's PingSource calls", async () => {
    await prefer({ channels: ['in_app', 'webhook'] });
    await subscribe('webhook');
    const withRunner = createNotifyApp(platform, { runner });
    const execution = await createExecution(owner);
    // Stored by an app without a runner: nothing is sent until the ping.
    expect((await send(failed(execution.execution_id))).ok).toBe(true);
    expect(requests).toEqual([]);
    const ping = new Request(SINK_URL, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': randomUUID(),
        'ce-type': PING_EVENT_TYPE,
        'ce-source': '/apis/v1/namespaces/integr8scode/pingsources/integr8scode-notify-deliveries',
      },
      body: '{"deliveries":"due"}',
    });
    const response = await withRunner.fetch(ping);
    expect(response.status).toBe(200);
    expect(requests).toHaveLength(1);
    expect((await deliveriesOf(owner))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});
