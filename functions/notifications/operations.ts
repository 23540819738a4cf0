/** The notifications operations as the OpenAPI document publishes them. */
import * as v from 'valibot';
import {
  NOTIFICATION_CHANNELS,
  NOTIFICATION_SEVERITIES,
  NotificationResponseSchema,
} from '../../shared/domain/notification';
import {
  ATTEMPT_OUTCOMES,
  DELIVERY_STATUSES,
  EXTERNAL_CHANNELS,
} from '../../shared/domain/notification-delivery';
import type { OperationGroup } from '../../shared/http/openapi/operation';
import {
  ChannelParam,
  DeliveryLogQuery,
  ListQuery,
  NotificationIdParam,
  SubscriptionUpdateSchema,
} from './requests';

const count = v.pipe(v.number(), v.integer());
const text = v.string();
const nullableText = v.nullable(v.string());

const NotificationListResponse = v.object({
  notifications: v.array(NotificationResponseSchema),
  total: count,
  unread_count: count,
});

/** `NotificationSubscription`, plus the webhook's signing secret. */
const NotificationSubscription = v.object({
  user_id: text,
  channel: v.picklist(NOTIFICATION_CHANNELS),
  severities: v.array(v.picklist(NOTIFICATION_SEVERITIES)),
  include_tags: v.array(text),
  exclude_tags: v.array(text),
  enabled: v.boolean(),
  webhook_url: nullableText,
  slack_webhook: nullableText,
  quiet_hours_enabled: v.boolean(),
  quiet_hours_start: nullableText,
  quiet_hours_end: nullableText,
  timezone: text,
  batch_interval_minutes: count,
  webhook_secret: nullableText,
  created_at: text,
  updated_at: text,
});

const SubscriptionsResponse = v.object({ subscriptions: v.array(NotificationSubscription) });
const UnreadCountResponse = v.object({ unread_count: count });
const DeleteNotificationResponse = v.object({ message: text });

const DeliveryLogEntry = v.object({
  delivery_id: text,
  notification_id: text,
  channel: v.picklist(EXTERNAL_CHANNELS),
  status: v.picklist(DELIVERY_STATUSES),
  subject: text,
  severity: text,
  tags: v.array(text),
  next_attempt_at: nullableText,
  held_for: v.nullable(v.picklist(['quiet_hours', 'throttle'])),
  last_status_code: v.nullable(count),
  last_error: nullableText,
  created_at: text,
  updated_at: text,
  delivered_at: nullableText,
  attempts: v.array(
    v.object({
      attempt: count,
      target: text,
      started_at: text,
      finished_at: nullableText,
      duration_ms: v.nullable(count),
      outcome: v.picklist(ATTEMPT_OUTCOMES),
      status_code: v.nullable(count),
      error: nullableText,
    }),
  ),
});

const DeliveryLogResponse = v.object({
  deliveries: v.array(DeliveryLogEntry),
  total: count,
  limit: count,
  offset: count,
});

const tags = ['notifications'];
const notFound = { description: 'No such notification of yours' };

export const notificationsOperations: OperationGroup = {
  schemas: {
    NotificationResponse: NotificationResponseSchema,
    NotificationListResponse,
    NotificationSubscription,
    SubscriptionsResponse,
    SubscriptionUpdate: SubscriptionUpdateSchema,
    UnreadCountResponse,
    DeleteNotificationResponse,
    DeliveryLogResponse,
  },
  operations: [
    {
      method: 'get',
      path: '/api/v1/notifications',
      tags,
      summary: 'Your notifications, newest first',
      access: 'user',
      query: ListQuery,
      responses: { 200: { description: 'A page of notifications', schema: NotificationListResponse } },
    },
    {
      method: 'put',
      path: '/api/v1/notifications/{notification_id}/read',
      tags,
      summary: 'Mark a notification read',
      access: 'user',
      params: NotificationIdParam,
      responses: { 204: { description: 'Marked read' }, 404: notFound },
    },
    {
      method: 'post',
      path: '/api/v1/notifications/mark-all-read',
      tags,
      summary: 'Mark every notification read',
      access: 'user',
      responses: { 204: { description: 'All marked read' } },
    },
    {
      method: 'get',
      path: '/api/v1/notifications/subscriptions',
      tags,
      summary: 'Your delivery channels: in-app, webhook, Slack',
      access: 'user',
      responses: { 200: { description: 'One subscription per channel', schema: SubscriptionsResponse } },
    },
    {
      method: 'put',
      path: '/api/v1/notifications/subscriptions/{channel}',
      tags,
      summary: 'Change a delivery channel',
      access: 'user',
      params: ChannelParam,
      body: { json: SubscriptionUpdateSchema },
      responses: { 200: { description: 'The subscription as changed', schema: NotificationSubscription } },
    },
    {
      method: 'get',
      path: '/api/v1/notifications/unread-count',
      tags,
      summary: 'How many notifications are unread',
      access: 'user',
      responses: { 200: { description: 'The count', schema: UnreadCountResponse } },
    },
    {
      method: 'delete',
      path: '/api/v1/notifications/{notification_id}',
      tags,
      summary: 'Delete a notification',
      access: 'user',
      params: NotificationIdParam,
      responses: { 200: { description: 'Deleted', schema: DeleteNotificationResponse }, 404: notFound },
    },
    {
      method: 'get',
      path: '/api/v1/notifications/deliveries',
      tags,
      summary: 'The log of webhook and Slack deliveries, with every attempt',
      access: 'user',
      query: DeliveryLogQuery,
      responses: { 200: { description: 'A page of deliveries', schema: DeliveryLogResponse } },
    },
  ],
};
