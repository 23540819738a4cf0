import type { Collection, Filter } from 'mongodb';
import type { NotificationRecord } from '../../domain/notification';
import type { NotificationFilter, NotificationRepository } from '../ports';
import { isDuplicateKey, type StoredDocument, storable, toDate, toRecord } from './documents';

const NEWEST_FIRST = { _created: -1, notification_id: -1 } as const;

/** A tag prefix matched literally: every regular-expression character in it is escaped. */
const literalPrefix = (prefix: string): RegExp =>
  new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

function toQuery(userId: string, filter: NotificationFilter): Filter<StoredDocument> {
  const tagConditions: Filter<StoredDocument>[] = [];
  if (filter.includeTags && filter.includeTags.length > 0)
    tagConditions.push({ tags: { $in: filter.includeTags } });
  if (filter.excludeTags && filter.excludeTags.length > 0)
    tagConditions.push({ tags: { $nin: filter.excludeTags } });
  if (filter.tagPrefix) tagConditions.push({ tags: { $regex: literalPrefix(filter.tagPrefix) } });
  const query: Filter<StoredDocument> = { user_id: userId };
  if (filter.status !== undefined) query.status = filter.status;
  if (tagConditions.length > 0) query.$and = tagConditions;
  return query;
}

export function mongoNotificationRepository(
  notifications: Collection<StoredDocument>,
): NotificationRepository {
  return {
    async create(notification) {
      try {
        await notifications.insertOne({
          _id: notification.notification_id,
          ...storable(notification),
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
      // Looked up by key alone and checked here: FerretDB serves only an `_id`-only filter from its key.
      const current = await notifications.findOne({ _id: notificationId });
      if (!current || current.user_id !== userId) return false;
      // A notification read twice keeps the time it was first read.
      const readAt = typeof current.read_at === 'string' ? current.read_at : at;
      const result = await notifications.updateOne(
        { _id: notificationId },
        { $set: { status: 'read', read_at: readAt } },
      );
      return result.matchedCount > 0;
    },
    async markAllRead(userId, at) {
      const result = await notifications.updateMany(
        { user_id: userId, status: 'delivered' },
        { $set: { status: 'read', read_at: at } },
      );
      return result.modifiedCount;
    },
    async delete(userId, notificationId) {
      const current = await notifications.findOne({ _id: notificationId }, { projection: { user_id: 1 } });
      if (!current || current.user_id !== userId) return false;
      return (await notifications.deleteOne({ _id: notificationId })).deletedCount > 0;
    },
    async deleteForUser(userId) {
      return (await notifications.deleteMany({ user_id: userId })).deletedCount;
    },
  };
}
