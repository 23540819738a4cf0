import * as v from 'valibot';

export const NOTIFICATION_CHANNELS = ['in_app', 'webhook', 'slack'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];
export const NOTIFICATION_STATUSES = [
  'pending',
  'queued',
  'sending',
  'delivered',
  'failed',
  'skipped',
  'read',
  'clicked',
] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];
export const NOTIFICATION_SEVERITIES = ['low', 'medium', 'high', 'urgent'] as const;
export type NotificationSeverity = (typeof NOTIFICATION_SEVERITIES)[number];

export interface NotificationRecord {
  notification_id: string;
  user_id: string;
  channel: NotificationChannel;
  status: NotificationStatus;
  subject: string;
  body: string;
  action_url: string;
  severity: NotificationSeverity;
  tags: string[];
  created_at: string;
  read_at: string | null;
  /** The event that caused this notification; makes creation idempotent. */
  source_event_id: string;
}

/** `NotificationResponse` of the reference API. */
export const NotificationResponseSchema = v.object({
  notification_id: v.string(),
  channel: v.picklist(NOTIFICATION_CHANNELS),
  status: v.picklist(NOTIFICATION_STATUSES),
  subject: v.string(),
  body: v.string(),
  action_url: v.string(),
  severity: v.picklist(NOTIFICATION_SEVERITIES),
  tags: v.array(v.string()),
  created_at: v.string(),
  read_at: v.nullable(v.string()),
});
export type NotificationResponse = v.InferOutput<typeof NotificationResponseSchema>;

export const toNotificationResponse = ({
  user_id: _user,
  source_event_id: _source,
  ...rest
}: NotificationRecord): NotificationResponse => rest;
