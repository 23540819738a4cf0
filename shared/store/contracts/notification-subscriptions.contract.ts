import { describe, expect, it } from 'vitest';
import type { NotificationChannel } from '../../domain/notification';
import { defaultSubscription, type SubscriptionRecord } from '../../domain/notification-subscription';
import { at, type MakeRepositories, useRepositories } from './fixtures';

export const aSubscription = (
  channel: NotificationChannel = 'webhook',
  overrides: Partial<SubscriptionRecord> = {},
): SubscriptionRecord => ({
  ...defaultSubscription('user-1', channel, 'Europe/Berlin', at(0)),
  enabled: true,
  severities: ['high', 'urgent'],
  include_tags: ['execution'],
  exclude_tags: ['cancelled'],
  webhook_url: channel === 'webhook' ? 'https://hooks.example.com/integr8s?token=a&b=1' : null,
  slack_webhook: channel === 'slack' ? 'https://hooks.slack.com/services/T0/B0/x' : null,
  quiet_hours_enabled: true,
  quiet_hours_start: '22:00',
  quiet_hours_end: '07:30',
  webhook_secret: channel === 'webhook' ? 'whsec_contract' : null,
  updated_at: at(5),
  ...overrides,
});

export function describeNotificationSubscriptionRepositoryContract(
  adapterName: string,
  make: MakeRepositories<'notificationSubscriptions'>,
): void {
  describe(`NotificationSubscriptionRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);

    it('stores a subscription per user and channel and returns it exactly', async () => {
      const webhook = aSubscription('webhook', { include_tags: ['with\u0000nul', 'dots.and$dollar'] });
      await repos().notificationSubscriptions.put(webhook);
      expect(await repos().notificationSubscriptions.get('user-1', 'webhook')).toEqual(webhook);
      expect(await repos().notificationSubscriptions.get('user-1', 'slack')).toBeNull();
      expect(await repos().notificationSubscriptions.get('user-2', 'webhook')).toBeNull();
    });

    it("lists one user's subscriptions in channel order: in-app, webhook, Slack", async () => {
      await repos().notificationSubscriptions.put(aSubscription('slack'));
      await repos().notificationSubscriptions.put(aSubscription('in_app'));
      await repos().notificationSubscriptions.put(aSubscription('webhook'));
      await repos().notificationSubscriptions.put(aSubscription('webhook', { user_id: 'user-2' }));
      const listed = await repos().notificationSubscriptions.list('user-1');
      expect(listed.map((s) => s.channel)).toEqual(['in_app', 'webhook', 'slack']);
      expect(listed.every((s) => s.user_id === 'user-1')).toBe(true);
      expect(await repos().notificationSubscriptions.list('nobody')).toEqual([]);
    });

    it('replaces the earlier subscription of the same channel', async () => {
      await repos().notificationSubscriptions.put(aSubscription('webhook'));
      const changed = aSubscription('webhook', {
        enabled: false,
        severities: [],
        quiet_hours_start: null,
        webhook_url: 'https://other.example.com/',
        updated_at: at(9),
      });
      await repos().notificationSubscriptions.put(changed);
      expect(await repos().notificationSubscriptions.get('user-1', 'webhook')).toEqual(changed);
      expect(await repos().notificationSubscriptions.list('user-1')).toHaveLength(1);
    });

    it('stores racing first saves of one channel as one subscription', async () => {
      const versions = Array.from({ length: 5 }, (_, i) =>
        aSubscription('slack', { updated_at: at(10 + i) }),
      );
      await Promise.all(versions.map((version) => repos().notificationSubscriptions.put(version)));
      const listed = await repos().notificationSubscriptions.list('user-1');
      expect(listed).toHaveLength(1);
      expect(versions).toContainEqual(listed[0]);
    });

    it("deletes every subscription of one user and no one else's", async () => {
      await repos().notificationSubscriptions.put(aSubscription('webhook'));
      await repos().notificationSubscriptions.put(aSubscription('slack'));
      await repos().notificationSubscriptions.put(aSubscription('slack', { user_id: 'user-2' }));
      expect(await repos().notificationSubscriptions.deleteForUser('user-1')).toBe(2);
      expect(await repos().notificationSubscriptions.list('user-1')).toEqual([]);
      expect(await repos().notificationSubscriptions.list('user-2')).toHaveLength(1);
      expect(await repos().notificationSubscriptions.deleteForUser('user-1')).toBe(0);
    });
  });
}
