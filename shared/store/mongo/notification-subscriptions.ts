import type { Collection } from 'mongodb';
import { inChannelOrder, type SubscriptionRecord } from '../../domain/notification-subscription';
import type { NotificationSubscriptionRepository } from '../ports';
import { isDuplicateKey, type StoredDocument, storable, toRecord } from './documents';

const keyOf = (userId: string, channel: string) => `${userId}:${channel}`;

export function mongoNotificationSubscriptionRepository(
  subscriptions: Collection<StoredDocument>,
): NotificationSubscriptionRepository {
  return {
    async list(userId) {
      const documents = await subscriptions.find({ user_id: userId }).toArray();
      return inChannelOrder(documents.map((document) => toRecord<SubscriptionRecord>(document)!));
    },
    async get(userId, channel) {
      return toRecord<SubscriptionRecord>(await subscriptions.findOne({ _id: keyOf(userId, channel) }));
    },
    async put(subscription) {
      const _id = keyOf(subscription.user_id, subscription.channel);
      const document = { _id, ...storable(subscription) };
      try {
        await subscriptions.replaceOne({ _id }, document, { upsert: true });
      } catch (error) {
        // Two first saves racing: both upserts insert, one is refused; it replaces the winner's instead.
        if (!isDuplicateKey(error)) throw error;
        await subscriptions.replaceOne({ _id }, document);
      }
    },
    async deleteForUser(userId) {
      return (await subscriptions.deleteMany({ user_id: userId })).deletedCount;
    },
  };
}
