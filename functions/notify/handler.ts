/**
 * In-app notifications for finished executions. `notificationFor` decides what the user reads;
 * `notifyExecutionOwner` stores it once per source event and pushes it to the user's open streams.
 */
import { v5 as uuidV5 } from 'uuid';
import type { ExecutionErrorType, ExecutionRecord } from '../../shared/domain/execution';
import {
  type NotificationRecord,
  type NotificationResponse,
  toNotificationResponse,
} from '../../shared/domain/notification';
import type { EventOf } from '../../shared/events/schemas';
import { userChannel } from '../../shared/fanout/port';
import { PermanentEventError, type SinkContext } from '../../shared/http/cloudevent-sink';
import type { Platform } from '../../shared/platform/platform';

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

/**
 * Stores the owner's notification, pushes it to their open streams and announces it. Every step is
 * safe to repeat, so a failure anywhere is answered by redelivery rather than by a lost notification.
 * A redelivery that finds the notification already deleted by its user does nothing.
 */
export async function notifyExecutionOwner(
  platform: Platform,
  event: TerminalEvent,
  context: SinkContext = {},
): Promise<void> {
  const execution = await platform.store.executions.get(event.execution_id);
  // Executions are stored before their first event is published, so a missing one will not appear later.
  if (!execution) throw new PermanentEventError(`execution ${event.execution_id} does not exist`);
  const draft = inAppNotification(
    notificationFor(event, execution),
    execution.user_id,
    event.event_id,
    platform.now(),
  );
  const created = await platform.store.notifications.create(draft);
  const notification = created ? draft : await platform.store.notifications.get(draft.notification_id);
  if (!notification) return;

  const message: NotificationMessage = {
    type: 'notification',
    notification: toNotificationResponse(notification),
  };
  await platform.fanout.publish(userChannel(notification.user_id), JSON.stringify(message));

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
      channels: [notification.channel],
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
