/**
 * What a webhook and a Slack incoming webhook receive for one delivery. The webhook body keeps the
 * reference's fields (`notification_id, severity, tags, subject, body, timestamp, action_url`) and adds
 * the delivery id and an absolute `url` when PUBLIC_URL is set. Slack gets its incoming-webhook format:
 * `text` (the notification fallback) and blocks with the details and a link.
 */
import type { DeliveryRecord } from '../../shared/domain/notification-delivery';

export interface WebhookPayload {
  type: 'notification';
  delivery_id: string;
  notification_id: string;
  subject: string;
  body: string;
  severity: string;
  tags: string[];
  action_url: string;
  /** `action_url` on the web app's public address; null when PUBLIC_URL is not set. */
  url: string | null;
  timestamp: string;
}

const absolute = (actionUrl: string, publicUrl: string | undefined): string | null =>
  publicUrl && actionUrl.startsWith('/') ? `${publicUrl}${actionUrl}` : null;

export function webhookPayload(delivery: DeliveryRecord, publicUrl?: string): WebhookPayload {
  const { message } = delivery;
  return {
    type: 'notification',
    delivery_id: delivery.delivery_id,
    notification_id: delivery.notification_id,
    subject: message.subject,
    body: message.body,
    severity: message.severity,
    tags: message.tags,
    action_url: message.action_url,
    url: absolute(message.action_url, publicUrl),
    timestamp: message.created_at,
  };
}

/** Slack's mrkdwn treats these three as control characters; everything else is shown as written. */
const escapeSlack = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

const SEVERITY_MARKS: Record<string, string> = {
  low: ':information_source:',
  medium: ':large_blue_circle:',
  high: ':warning:',
  urgent: ':rotating_light:',
};

/** Slack's limit for a section's text. */
const SLACK_SECTION_CHARS = 3000;

export function slackPayload(delivery: DeliveryRecord, publicUrl?: string) {
  const { message } = delivery;
  const url = absolute(message.action_url, publicUrl);
  const details = `*${escapeSlack(message.subject)}*\n${escapeSlack(message.body)}`;
  const tags = message.tags.map((tag) => `\`${escapeSlack(tag)}\``).join(' ');
  return {
    text: `${message.subject}: ${message.body}`,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: details.slice(0, SLACK_SECTION_CHARS) },
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `${SEVERITY_MARKS[message.severity] ?? ''} ${message.severity}${tags ? ` · ${tags}` : ''}`.trim(),
          },
        ],
      },
      ...(url
        ? [
            {
              type: 'actions',
              elements: [{ type: 'button', text: { type: 'plain_text', text: 'View details' }, url }],
            },
          ]
        : []),
    ],
  };
}
