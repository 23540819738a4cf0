import { describe, expect, it } from 'vitest';
import { draftOf, parseTags, requestOf, withChannel } from './subscriptions';
import type { NotificationSubscription } from './types';

const subscription = (patch: Partial<NotificationSubscription> = {}): NotificationSubscription => ({
  user_id: 'u',
  channel: 'webhook',
  severities: ['urgent', 'high'],
  include_tags: ['execution'],
  exclude_tags: [],
  enabled: true,
  webhook_url: 'https://hooks.example.com/x',
  slack_webhook: null,
  quiet_hours_enabled: false,
  quiet_hours_start: null,
  quiet_hours_end: null,
  timezone: 'Europe/Berlin',
  batch_interval_minutes: 60,
  webhook_secret: 'whsec_x',
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
  ...patch,
});

describe('subscription drafts', () => {
  it('round-trip into the request body of their channel, severities in order and tags parsed', () => {
    const draft = draftOf(subscription());
    draft.includeTags = 'execution,  failed execution timeout';
    expect(requestOf('webhook', draft)).toEqual({
      enabled: true,
      severities: ['high', 'urgent'],
      include_tags: ['execution', 'failed', 'timeout'],
      exclude_tags: [],
      quiet_hours_enabled: false,
      quiet_hours_start: '22:00',
      quiet_hours_end: '07:00',
      timezone: 'Europe/Berlin',
      webhook_url: 'https://hooks.example.com/x',
    });
  });

  it('send the Slack URL as slack_webhook, an emptied URL as null, and no URL for in-app', () => {
    const slack = draftOf(
      subscription({ channel: 'slack', webhook_url: null, slack_webhook: 'https://hooks.slack.com/a' }),
    );
    expect(requestOf('slack', slack)).toMatchObject({ slack_webhook: 'https://hooks.slack.com/a' });
    expect(requestOf('slack', { ...slack, url: '  ' })).toMatchObject({ slack_webhook: null });
    expect(requestOf('in_app', draftOf(subscription({ channel: 'in_app' })))).not.toHaveProperty(
      'webhook_url',
    );
  });

  it('parse tags once each, ignoring empty pieces', () => {
    expect(parseTags(' a,,b  a ,c ')).toEqual(['a', 'b', 'c']);
    expect(parseTags('')).toEqual([]);
  });

  it('add a channel to the settings list only when missing', () => {
    expect(withChannel(['in_app'], 'webhook')).toEqual(['in_app', 'webhook']);
    expect(withChannel(['in_app', 'webhook'], 'webhook')).toEqual(['in_app', 'webhook']);
  });
});
