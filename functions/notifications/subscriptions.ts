/**
 * A user's notification subscriptions (GET /subscriptions, PUT /subscriptions/{channel}) and the log of
 * their webhook and Slack deliveries (GET /deliveries, not in the reference). Everyone sees and changes
 * only their own.
 */
import type { Context, Hono } from 'hono';
import { NOTIFICATION_CHANNELS, type NotificationChannel } from '../../shared/domain/notification';
import type { DeliveryAttempt, DeliveryRecord } from '../../shared/domain/notification-delivery';
import { defaultSubscription, type SubscriptionRecord } from '../../shared/domain/notification-subscription';
import { currentUser } from '../../shared/http/auth';
import { readJsonObject, ValidationFailed, type ValidationIssue, validate } from '../../shared/http/errors';
import { bareHost } from '../../shared/http/ip-addresses';
import { allowList, targetProblem } from '../../shared/http/outbound-guard';
import { newWebhookSecret } from '../../shared/http/webhook-signature';
import type { AppEnv } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import {
  ChannelParam,
  DeliveryLogQuery,
  type SubscriptionUpdate,
  SubscriptionUpdateSchema,
} from './requests';

/** The prefix every Slack incoming webhook has (an allow-listed host may stand in, e.g. a Slack-compatible chat). */
const SLACK_PREFIX = 'https://hooks.slack.com/';

const PRIVATE_NO_CACHE = { 'Cache-Control': 'private, no-cache' };

/** `NotificationSubscription` of the reference, plus `webhook_secret`. */
export type SubscriptionResponse = SubscriptionRecord;

/** One delivery in the log: what was sent, where it stands, and every attempt. */
export interface DeliveryLogEntry {
  delivery_id: string;
  notification_id: string;
  channel: DeliveryRecord['channel'];
  status: DeliveryRecord['status'];
  subject: string;
  severity: string;
  tags: string[];
  next_attempt_at: string | null;
  held_for: DeliveryRecord['held_for'];
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
  attempts: Omit<DeliveryAttempt, 'delivery_id' | 'user_id' | 'channel'>[];
}

const toLogEntry = (delivery: DeliveryRecord, attempts: DeliveryAttempt[]): DeliveryLogEntry => ({
  delivery_id: delivery.delivery_id,
  notification_id: delivery.notification_id,
  channel: delivery.channel,
  status: delivery.status,
  subject: delivery.message.subject,
  severity: delivery.message.severity,
  tags: delivery.message.tags,
  next_attempt_at: delivery.next_attempt_at,
  held_for: delivery.held_for,
  last_status_code: delivery.last_status_code,
  last_error: delivery.last_error,
  created_at: delivery.created_at,
  updated_at: delivery.updated_at,
  delivered_at: delivery.delivered_at,
  attempts: attempts.map(({ delivery_id: _d, user_id: _u, channel: _c, ...attempt }) => attempt),
});

/** The issues of a saved subscription as a whole: targets on the wrong channel or refused, missing fields. */
function problemsOf(
  next: SubscriptionRecord,
  request: SubscriptionUpdate,
  allow: ReturnType<typeof allowList>,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const issue = (field: string, msg: string) =>
    issues.push({ loc: ['body', field], msg, type: 'value_error' });
  const urlField = (field: 'webhook_url' | 'slack_webhook', channel: NotificationChannel) => {
    const given = request[field];
    if (given === undefined || given === null) return;
    if (next.channel !== channel) return issue(field, `applies to the ${channel} channel only`);
    const problem = targetProblem(given, allow);
    if (problem) return issue(field, problem);
    if (
      channel === 'slack' &&
      !given.startsWith(SLACK_PREFIX) &&
      !allow.allowsHost(bareHost(new URL(given).hostname))
    )
      issue(field, `must be a Slack incoming webhook URL (${SLACK_PREFIX}…)`);
  };
  urlField('webhook_url', 'webhook');
  urlField('slack_webhook', 'slack');
  if (request.rotate_secret && next.channel !== 'webhook')
    issue('rotate_secret', 'applies to the webhook channel only');
  if (next.enabled && next.channel === 'webhook' && !next.webhook_url)
    issue('webhook_url', 'is required to enable the webhook channel');
  if (next.enabled && next.channel === 'slack' && !next.slack_webhook)
    issue('slack_webhook', 'is required to enable the Slack channel');
  if (next.quiet_hours_enabled) {
    if (!next.quiet_hours_start) issue('quiet_hours_start', 'is required when quiet hours are enabled');
    if (!next.quiet_hours_end) issue('quiet_hours_end', 'is required when quiet hours are enabled');
    if (next.quiet_hours_start && next.quiet_hours_start === next.quiet_hours_end)
      issue('quiet_hours_end', 'must differ from quiet_hours_start');
  }
  return issues;
}

/** A field of the request when it was sent, else the current value. */
const given = <T>(value: T | undefined, current: T): T => (value === undefined ? current : value);

export function registerSubscriptionRoutes(app: Hono<AppEnv>, platform: Platform, base: string): void {
  const subscriptions = platform.store.notificationSubscriptions;
  const allow = allowList(platform.config.NOTIFY_ALLOWED_HOSTS);

  /** Channels the user never saved read as their defaults, dated from the account, in the user's zone. */
  async function defaultsFor(userId: string) {
    const [settings, account] = await Promise.all([
      platform.store.userSettings.get(userId),
      platform.store.users.findById(userId),
    ]);
    const since = account?.created_at ?? platform.now().toISOString();
    return (channel: NotificationChannel) =>
      defaultSubscription(userId, channel, settings?.timezone ?? 'UTC', since);
  }

  app.get(`${base}/subscriptions`, async (c) => {
    const user = currentUser(c);
    const [stored, defaults] = await Promise.all([
      subscriptions.list(user.user_id),
      defaultsFor(user.user_id),
    ]);
    const all = NOTIFICATION_CHANNELS.map(
      (channel) => stored.find((s) => s.channel === channel) ?? defaults(channel),
    );
    return c.json({ subscriptions: all satisfies SubscriptionResponse[] }, 200, PRIVATE_NO_CACHE);
  });

  app.put(`${base}/subscriptions/:channel`, async (c: Context<AppEnv>) => {
    const user = currentUser(c);
    const { channel } = validate(ChannelParam, { channel: c.req.param('channel') }, 'path');
    const request = validate(SubscriptionUpdateSchema, await readJsonObject(c), 'body');
    const stored = await subscriptions.get(user.user_id, channel);
    const current = stored ?? (await defaultsFor(user.user_id))(channel);
    const now = platform.now().toISOString();
    const next: SubscriptionRecord = {
      ...current,
      enabled: request.enabled,
      severities: given(request.severities, current.severities),
      include_tags: given(request.include_tags, current.include_tags),
      exclude_tags: given(request.exclude_tags, current.exclude_tags),
      webhook_url: given(request.webhook_url, current.webhook_url),
      slack_webhook: given(request.slack_webhook, current.slack_webhook),
      quiet_hours_enabled: given(request.quiet_hours_enabled, current.quiet_hours_enabled),
      quiet_hours_start: given(request.quiet_hours_start, current.quiet_hours_start),
      quiet_hours_end: given(request.quiet_hours_end, current.quiet_hours_end),
      timezone: given(request.timezone, current.timezone),
      batch_interval_minutes: given(request.batch_interval_minutes, current.batch_interval_minutes),
      // The webhook's signing secret is made with its first save and kept until the user rotates it.
      webhook_secret:
        channel !== 'webhook'
          ? null
          : request.rotate_secret || !current.webhook_secret
            ? newWebhookSecret()
            : current.webhook_secret,
      created_at: stored ? current.created_at : now,
      updated_at: now,
    };
    const issues = problemsOf(next, request, allow);
    if (issues.length > 0) throw new ValidationFailed(issues);
    await subscriptions.put(next);
    return c.json(next satisfies SubscriptionResponse, 200);
  });

  app.get(`${base}/deliveries`, async (c) => {
    const user = currentUser(c);
    const query = validate(DeliveryLogQuery, c.req.query(), 'query');
    const page = await platform.store.notificationDeliveries.listForUser(
      user.user_id,
      { channel: query.channel },
      { limit: query.limit, offset: query.offset },
    );
    const attempts = await platform.store.notificationDeliveries.attemptsOf(
      page.items.map((d) => d.delivery_id),
    );
    return c.json(
      {
        deliveries: page.items.map((delivery) =>
          toLogEntry(
            delivery,
            attempts.filter((attempt) => attempt.delivery_id === delivery.delivery_id),
          ),
        ),
        total: page.total,
        limit: query.limit,
        offset: query.offset,
      },
      200,
      PRIVATE_NO_CACHE,
    );
  });
}
