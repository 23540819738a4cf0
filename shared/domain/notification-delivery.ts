/**
 * Deliveries of notifications to webhook and Slack subscriptions, and every attempt at one. A delivery
 * is stored before anything is sent and stays `pending` until it is delivered, runs out of attempts or
 * its subscription is turned off; each attempt is a record of its own (claimed before it is sent, so
 * two runners never send the same attempt), which is the delivery log a user sees.
 */
import type { NotificationSeverity } from './notification';

export const EXTERNAL_CHANNELS = ['webhook', 'slack'] as const;
export type ExternalChannel = (typeof EXTERNAL_CHANNELS)[number];

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Why a pending delivery waits longer than its backoff. */
export type DeliveryHold = 'quiet_hours' | 'throttle';

/** What is sent: the notification as it was when the delivery was made. */
export interface DeliveryMessage {
  subject: string;
  body: string;
  severity: NotificationSeverity;
  tags: string[];
  action_url: string;
  created_at: string;
}

export interface DeliveryRecord {
  /** Derived from the notification and channel, so a redelivered event finds the delivery it made. */
  delivery_id: string;
  notification_id: string;
  user_id: string;
  channel: ExternalChannel;
  status: DeliveryStatus;
  message: DeliveryMessage;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt is due; null once the delivery is settled. */
  next_attempt_at: string | null;
  held_for: DeliveryHold | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export const ATTEMPT_OUTCOMES = ['in_progress', 'succeeded', 'failed', 'abandoned'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

export interface DeliveryAttempt {
  delivery_id: string;
  /** 1 for the first attempt. */
  attempt: number;
  user_id: string;
  channel: ExternalChannel;
  /** Scheme, host and port of the target only: a Slack webhook's path is its secret. */
  target: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  /** `abandoned`: the sender stopped (a crash, a restart) before it recorded an outcome. */
  outcome: AttemptOutcome;
  status_code: number | null;
  error: string | null;
}
