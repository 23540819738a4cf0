import { inChannelOrder, type SubscriptionRecord } from '../../domain/notification-subscription';
import type { NotificationSubscriptionRepository } from '../ports';
import type { SqliteDatabase } from './database';

export function sqliteNotificationSubscriptionRepository(
  db: SqliteDatabase,
): NotificationSubscriptionRepository {
  const sql = {
    list: db.prepare<[string], { doc: string }>(
      'SELECT doc FROM notification_subscriptions WHERE user_id = ?',
    ),
    get: db.prepare<[string, string], { doc: string }>(
      'SELECT doc FROM notification_subscriptions WHERE user_id = ? AND channel = ?',
    ),
    put: db.prepare<{ user_id: string; channel: string; doc: string }>(
      `INSERT INTO notification_subscriptions (user_id, channel, doc) VALUES (@user_id, @channel, @doc)
       ON CONFLICT (user_id, channel) DO UPDATE SET doc = excluded.doc`,
    ),
    deleteForUser: db.prepare<[string]>('DELETE FROM notification_subscriptions WHERE user_id = ?'),
  };
  const parse = (row: { doc: string }) => JSON.parse(row.doc) as SubscriptionRecord;
  return {
    async list(userId) {
      return inChannelOrder(sql.list.all(userId).map(parse));
    },
    async get(userId, channel) {
      const row = sql.get.get(userId, channel);
      return row ? parse(row) : null;
    },
    async put(subscription) {
      sql.put.run({
        user_id: subscription.user_id,
        channel: subscription.channel,
        doc: JSON.stringify(subscription),
      });
    },
    async deleteForUser(userId) {
      return sql.deleteForUser.run(userId).changes;
    },
  };
}
