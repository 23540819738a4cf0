import type { Collection, Document, Filter } from 'mongodb';
import type { NotificationRecord } from '../../domain/notification';
import type { NotificationFilter, NotificationRepository } from '../ports';
import { isDuplicateKey, toDate, toRecord } from './documents';

const NEWEST_FIRST = { _created: -1, notification_id: -1 } as const;

/** A tag prefix matched literally: every regular-expression character in it is escaped. */
const literalPrefix = (prefix: string): RegExp => new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

function toQuery(userId: string, filter: NotificationFilter): Filter<Document> {
  const tagConditions: Filter<Document>[] = [];
  if (filter.includeTags && filter.includeTags.length > 0) tagConditions.push({ tags: { $in: filter.includeTags } });
  if (filter.excludeTags && filter.excludeTags.length > 0) tagConditions.push({ tags: { $nin: filter.excludeTags } });
  if (filter.tagPrefix) tagConditions.push({ tags: { $regex: literalPrefix(filter.tagPrefix) } });
  const query: Filter<Document> = { user_id: userId };
  if (filter.status !== undefined) query.status = filter.status;
  if (tagConditions.length > 0) query.$and = tagConditions;
  return query;
}

export function mongoNotificationRepository(notifications: Collection<Document>): NotificationRepository {
  return {
    async create(notification) {
      try {
        await notifications.insertOne({
          _id: notification.notification_id,
          ...notification,
          _created: toDate(notification.created_at),
        });
        return true;
      } catch (error) {
        // The same notification id, or the same source event for this user: already created.
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    async get(notificationId) {
      return toRecord<NotificationRecord>(await notifications.findOne({ _id: notificationId }));
    },
    async list(userId, filter, paging) {
      const query = toQuery(userId, filter);
      const [documents, total] = await Promise.all([
        paging.limit > 0
          ? notifications.find(query).sort(NEWEST_FIRST).skip(paging.offset).limit(paging.limit).toArray()
          : [],
        notifications.countDocuments(query),
      ]);
      return { items: documents.map((document) => toRecord<NotificationRecord>(document)!), total };
    },
    async countUnread(userId) {
      return notifications.countDocuments({ user_id: userId, status: 'delivered' });
    },
    async markRead(userId, notificationId, at) {
      const mine = { _id: notificationId, user_id: userId };
      // A notification read twice keeps the time it was first read: the time is only set while unset.
      const first = await notifications.updateOne({ ...mine, read_at: null }, { $set: { status: 'read', read_at: at } });
      if (first.matchedCount > 0) return true;
      const again = await notifications.updateOne(mine, { $set: { status: 'read' } });
      return again.matchedCount > 0;
    },
    async markAllRead(userId, at) {
      const result = await notifications.updateMany(
        { user_id: userId, status: 'delivered' },
        { $set: { status: 'read', read_at: at } },
      );
      return result.modifiedCount;
    },
    async delete(userId, notificationId) {
      return (await notifications.deleteOne({ _id: notificationId, user_id: userId })).deletedCount > 0;
    },
  };
}
