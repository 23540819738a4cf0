/**
 * Notifications for finished executions. `notificationFor` decides what the user reads; `audienceOf`
 * which channels carry it, from the user's settings and subscriptions; `notifyExecutionOwner` stores
 * the in-app notification once per source event, pushes it to the user's open streams and stores a
 * delivery for each webhook or Slack subscription it goes to (deliveries.ts sends them).
 */
import { v5 as uuidV5 } from 'uuid';
import type { ExecutionErrorType, ExecutionRecord } from '../../shared/domain/execution';
import {
  type NotificationChannel,
  type NotificationRecord,
  type NotificationResponse,
  toNotificationResponse,
} from '../../shared/domain/notification';
import { EXTERNAL_CHANNELS, type ExternalChannel } from '../../shared/domain/notification-delivery';
import { defaultSubscription, passesFilters, targetOf } from '../../shared/domain/notification-subscription';
import { quietHoursEnd } from '../../shared/domain/quiet-hours';
import { DEFAULT_PREFERENCES, type NotificationPreferences } from '../../shared/domain/user-settings';
import type { EventOf } from '../../shared/events/schemas';
import { userChannel } from '../../shared/fanout/port';
import { PermanentEventError, type SinkContext } from '../../shared/http/cloudevent-sink';
import type { Platform } from '../../shared/platform/platform';
import { newDelivery } from './deliveries';

export type TerminalEvent = EventOf<
  'execution_completed' | 'execution_failed' | 'execution_timeout' | 'execution_cancelled'
>;

/** What a notification says and where it leads; the rest of the record is bookkeeping. */
export type NotificationContent = Pick<
  NotificationRecord,
  'subject' | 'body' | 'severity' | 'tags' | 'action_url'
>;

/** What the user's stream receives on `userChannel(user_id)`. */
export interface NotificationMessage {
  type: 'notification';
  notification: NotificationResponse;
}

const ERROR_LABELS: Record<ExecutionErrorType, string> = {
  script_error: 'script error',
  resource_limit: 'resource limit exceeded',
  timeout: 'time limit exceeded',
  permission_denied: 'permission denied',
  system_error: 'system error',
};

/** Long enough for a one-line reason; the full message stays on the execution's result page. */
const MAX_REASON_CHARS = 200;

export function notificationFor(event: TerminalEvent, execution: ExecutionRecord): NotificationContent {
  const id = execution.execution_id;
  const what = `Execution ${id.slice(0, 8)} (${execution.lang} ${execution.lang_version})`;
  const base = {
    action_url: `/editor?execution=${encodeURIComponent(id)}`,
  };
  const tags = (outcome: string) => ['execution', outcome, 'entity:execution', `exec:${id}`];
  switch (event.event_type) {
    case 'execution_completed': {
      const wall = wallSeconds(event, execution);
      const duration = wall === null ? '' : ` in ${formatSeconds(wall)}`;
      return {
        ...base,
        subject: 'Execution completed',
        body: `${what} finished${duration} with exit code ${event.exit_code}.`,
        severity: 'medium',
        tags: tags('completed'),
      };
    }
    case 'execution_failed': {
      const reason = oneLine(event.error_message);
      return {
        ...base,
        subject: 'Execution failed',
        body:
          `${what} failed: ${ERROR_LABELS[event.error_type]}, exit code ${event.exit_code}.` +
          (reason ? ` ${reason}` : ''),
        severity: 'high',
        tags: tags('failed'),
      };
    }
    case 'execution_timeout':
      return {
        ...base,
        subject: 'Execution timed out',
        body: `${what} was stopped after reaching its ${formatSeconds(event.timeout_seconds)} time limit.`,
        severity: 'high',
        tags: tags('timeout'),
      };
    case 'execution_cancelled': {
      const reason = oneLine(event.reason);
      return {
        ...base,
        subject: 'Execution cancelled',
        body: `${what} was cancelled.${reason ? ` Reason: ${reason}` : ''}`,
        severity: 'low',
        tags: tags('cancelled'),
      };
    }
  }
}

/** The sandbox's measured wall time, else the span between start and finish when both are known. */
function wallSeconds(event: EventOf<'execution_completed'>, execution: ExecutionRecord): number | null {
  if (event.resource_usage) return event.resource_usage.execution_time_wall_seconds;
  const finished = event.finished_at ?? execution.finished_at;
  if (!execution.started_at || !finished) return null;
  return Math.max(0, Date.parse(finished) - Date.parse(execution.started_at)) / 1000;
}

function formatSeconds(seconds: number): string {
  if (Number.isInteger(seconds) && seconds < 120) return `${seconds} s`;
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_REASON_CHARS ? `${flat.slice(0, MAX_REASON_CHARS - 1)}…` : flat;
}

/**
 * Notification ids are derived from the user and the source event, so a redelivered event maps to the
 * notification the first attempt stored instead of creating a second copy.
 */
const NOTIFICATION_NAMESPACE = 'a7d3c2e4-1f5b-4b8e-9c6d-2e0f8a4b7c19';

export function inAppNotification(
  content: NotificationContent,
  userId: string,
  sourceEventId: string,
  now: Date,
): NotificationRecord {
  return {
    notification_id: uuidV5(`${userId}:${sourceEventId}`, NOTIFICATION_NAMESPACE),
    user_id: userId,
    channel: 'in_app',
    // Storing it is the in-app delivery: the inbox reads from the store; the live push only shows it sooner.
    status: 'delivered',
    subject: content.subject,
    body: content.body,
    action_url: content.action_url,
    created_at: now.toISOString(),
    read_at: null,
    severity: content.severity,
    tags: content.tags,
    source_event_id: sourceEventId,
  };
}

/** The settings toggle that decides whether this kind of event notifies at all. */
const TOGGLES: Record<TerminalEvent['event_type'], keyof Omit<NotificationPreferences, 'channels'>> = {
  execution_completed: 'execution_completed',
  // "A run fails or times out"; a cancelled run did not complete either.
  execution_failed: 'execution_failed',
  execution_timeout: 'execution_failed',
  execution_cancelled: 'execution_failed',
};

/** Who hears of a notification: in-app (and whether live now), and which external channels. */
export interface Audience {
  inApp: { push: boolean } | null;
  external: ExternalChannel[];
}

/**
 * The channels a notification goes out on. The user's settings decide whether the kind of event
 * notifies and which channels may be used; each channel's subscription must be enabled, have a target
 * (webhook, Slack) and let the notification through its severity and tag filters. In-app quiet hours
 * keep the live push quiet; the notification still waits in the inbox.
 */
export async function audienceOf(
  platform: Platform,
  userId: string,
  eventType: TerminalEvent['event_type'],
  content: NotificationContent,
): Promise<Audience> {
  const [settings, subscriptions] = await Promise.all([
    platform.store.userSettings.get(userId),
    platform.store.notificationSubscriptions.list(userId),
  ]);
  const preferences = (settings ?? DEFAULT_PREFERENCES).notifications;
  if (!preferences[TOGGLES[eventType]]) return { inApp: null, external: [] };
  const now = platform.now();
  const subscriptionOf = (channel: NotificationChannel) =>
    subscriptions.find((s) => s.channel === channel) ??
    defaultSubscription(userId, channel, settings?.timezone ?? 'UTC', now.toISOString());
  const carries = (channel: NotificationChannel) => {
    const subscription = subscriptionOf(channel);
    return (
      preferences.channels.includes(channel) &&
      subscription.enabled &&
      (channel === 'in_app' || targetOf(subscription) !== null) &&
      passesFilters(subscription, content)
    );
  };
  return {
    inApp: carries('in_app') ? { push: quietHoursEnd(now, subscriptionOf('in_app')) === null } : null,
    external: EXTERNAL_CHANNELS.filter(carries),
  };
}

export interface NotifyHooks {
  /** Called when deliveries were stored, so they go out now instead of at the next poll. */
  onDeliveries?: () => void;
}

/**
 * Stores a delivery per external channel, stores the owner's in-app notification, pushes it to their
 * open streams and announces it. Every step is safe to repeat, so a failure anywhere is answered by
 * redelivery rather than by a lost notification. A redelivery that finds the in-app notification already
 * deleted by its user does nothing more.
 */
export async function notifyExecutionOwner(
  platform: Platform,
  event: TerminalEvent,
  context: SinkContext = {},
  hooks: NotifyHooks = {},
): Promise<void> {
  const execution = await platform.store.executions.get(event.execution_id);
  // Executions are stored before their first event is published, so a missing one will not appear later.
  if (!execution) throw new PermanentEventError(`execution ${event.execution_id} does not exist`);
  const content = notificationFor(event, execution);
  const draft = inAppNotification(content, execution.user_id, event.event_id, platform.now());
  const audience = await audienceOf(platform, execution.user_id, event.event_type, content);
  if (!audience.inApp && audience.external.length === 0) return;

  for (const channel of audience.external)
    await platform.store.notificationDeliveries.create(newDelivery(draft, channel, platform.now()));
  if (audience.external.length > 0) hooks.onDeliveries?.();

  let notification: NotificationRecord | null = draft;
  if (audience.inApp) {
    const created = await platform.store.notifications.create(draft);
    notification = created ? draft : await platform.store.notifications.get(draft.notification_id);
    if (!notification) return;
    if (audience.inApp.push) {
      const message: NotificationMessage = {
        type: 'notification',
        notification: toNotificationResponse(notification),
      };
      await platform.fanout.publish(userChannel(notification.user_id), JSON.stringify(message));
    }
  }

  const announcement = platform.events.create<EventOf<'notification_created'>>(
    {
      event_type: 'notification_created',
      aggregate_id: notification.notification_id,
      notification_id: notification.notification_id,
      user_id: notification.user_id,
      subject: notification.subject,
      body: notification.body,
      severity: notification.severity,
      tags: notification.tags,
      channels: [...(audience.inApp ? [notification.channel] : []), ...audience.external],
    },
    {
      userId: notification.user_id,
      traceparent: context.traceparent,
      correlationId: event.metadata.correlation_id ?? event.execution_id,
      causedBy: event.event_id,
    },
  );
  await platform.events.publish(announcement);
}
