/** The notifications page's model of a channel subscription: a form draft and the request it saves as. */
import type { NotificationChannel, NotificationSubscription, Severity } from './types';

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'urgent'];

export const CHANNEL_LABELS: Record<NotificationChannel, string> = {
  in_app: 'In the app',
  webhook: 'Webhook',
  slack: 'Slack',
};

export interface SubscriptionDraft {
  enabled: boolean;
  /** The webhook or Slack URL; unused for in-app. */
  url: string;
  severities: Severity[];
  /** Tags as typed: separated by commas or spaces. */
  includeTags: string;
  excludeTags: string;
  quietHours: boolean;
  quietStart: string;
  quietEnd: string;
  timezone: string;
}

export function draftOf(subscription: NotificationSubscription): SubscriptionDraft {
  return {
    enabled: subscription.enabled,
    url: (subscription.channel === 'slack' ? subscription.slack_webhook : subscription.webhook_url) ?? '',
    severities: [...subscription.severities],
    includeTags: subscription.include_tags.join(', '),
    excludeTags: subscription.exclude_tags.join(', '),
    quietHours: subscription.quiet_hours_enabled,
    quietStart: subscription.quiet_hours_start ?? '22:00',
    quietEnd: subscription.quiet_hours_end ?? '07:00',
    timezone: subscription.timezone,
  };
}

/** Tags typed into a field: split on commas and white space, each once, in the order typed. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/** The PUT /notifications/subscriptions/{channel} body a draft saves as. */
export function requestOf(channel: NotificationChannel, draft: SubscriptionDraft): Record<string, unknown> {
  const body: Record<string, unknown> = {
    enabled: draft.enabled,
    severities: SEVERITIES.filter((severity) => draft.severities.includes(severity)),
    include_tags: parseTags(draft.includeTags),
    exclude_tags: parseTags(draft.excludeTags),
    quiet_hours_enabled: draft.quietHours,
    quiet_hours_start: draft.quietStart || null,
    quiet_hours_end: draft.quietEnd || null,
    timezone: draft.timezone,
  };
  const url = draft.url.trim() || null;
  if (channel === 'webhook') body.webhook_url = url;
  if (channel === 'slack') body.slack_webhook = url;
  return body;
}

/** The settings' channel list with `channel` in it (a subscription turned on must be allowed there too). */
export const withChannel = (channels: readonly string[], channel: NotificationChannel): string[] =>
  channels.includes(channel) ? [...channels] : [...channels, channel];
