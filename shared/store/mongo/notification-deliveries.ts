import type { Collection, Filter } from 'mongodb';
import type { DeliveryAttempt, DeliveryRecord } from '../../domain/notification-delivery';
import type { NotificationDeliveryRepository } from '../ports';
import { inChunks, isDuplicateKey, type StoredDocument, storable, toDate, toRecord } from './documents';

const NEWEST_FIRST = { _created: -1, delivery_id: -1 } as const;

const toDocument = (delivery: DeliveryRecord): StoredDocument => ({
  _id: delivery.delivery_id,
  ...storable(delivery),
  _created: toDate(delivery.created_at),
  _due: delivery.next_attempt_at === null ? null : toDate(delivery.next_attempt_at),
});

/** Attempt keys: the claim of attempt n of a delivery is the insert of this key. */
const attemptKey = (deliveryId: string, attempt: number) => `${deliveryId}#${attempt}`;

const toAttemptDocument = (attempt: DeliveryAttempt): StoredDocument => ({
  _id: attemptKey(attempt.delivery_id, attempt.attempt),
  ...storable(attempt),
  _started: toDate(attempt.started_at),
});

export function mongoNotificationDeliveryRepository(
  deliveries: Collection<StoredDocument>,
  attempts: Collection<StoredDocument>,
): NotificationDeliveryRepository {
  const record = (document: StoredDocument) => toRecord<DeliveryRecord>(document)!;
  const attemptRecord = (document: StoredDocument) => toRecord<DeliveryAttempt>(document)!;
  return {
    async create(delivery) {
      try {
        await deliveries.insertOne(toDocument(delivery));
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    async get(deliveryId) {
      return toRecord<DeliveryRecord>(await deliveries.findOne({ _id: deliveryId }));
    },
    async update(delivery) {
      // Only the runner holding the delivery's current attempt writes it, so a plain replace is safe.
      await deliveries.replaceOne({ _id: delivery.delivery_id }, toDocument(delivery));
    },
    async listDue(now, limit) {
      const documents = await deliveries
        .find({ status: 'pending', _due: { $lte: toDate(now) } })
        .sort({ _due: 1, _id: 1 })
        .limit(limit)
        .toArray();
      return documents.map(record);
    },
    async nextDue() {
      const [first] = await deliveries.find({ status: 'pending' }).sort({ _due: 1 }).limit(1).toArray();
      return first ? record(first).next_attempt_at : null;
    },
    async listForUser(userId, filter, paging) {
      const query: Filter<StoredDocument> = { user_id: userId };
      if (filter.channel) query.channel = filter.channel;
      const [documents, total] = await Promise.all([
        paging.limit > 0
          ? deliveries.find(query).sort(NEWEST_FIRST).skip(paging.offset).limit(paging.limit).toArray()
          : [],
        deliveries.countDocuments(query),
      ]);
      return { items: documents.map(record), total };
    },
    async beginAttempt(attempt) {
      try {
        await attempts.insertOne(toAttemptDocument(attempt));
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    async finishAttempt(attempt) {
      await attempts.replaceOne(
        { _id: attemptKey(attempt.delivery_id, attempt.attempt) },
        toAttemptDocument(attempt),
      );
    },
    async getAttempt(deliveryId, attempt) {
      return toRecord<DeliveryAttempt>(await attempts.findOne({ _id: attemptKey(deliveryId, attempt) }));
    },
    async attemptsOf(deliveryIds) {
      const found: DeliveryAttempt[] = [];
      for (const chunk of inChunks(deliveryIds))
        found.push(...(await attempts.find({ delivery_id: { $in: chunk } }).toArray()).map(attemptRecord));
      const order = new Map(deliveryIds.map((id, index) => [id, index]));
      return found.sort(
        (a, b) => order.get(a.delivery_id)! - order.get(b.delivery_id)! || a.attempt - b.attempt,
      );
    },
    async attemptTimesSince(userId, channel, since) {
      const documents = await attempts
        .find({ user_id: userId, channel, _started: { $gte: toDate(since) } })
        .sort({ _started: 1 })
        .toArray();
      return documents.map((document) => (document._started as Date).toISOString());
    },
    async deleteForUser(userId) {
      await attempts.deleteMany({ user_id: userId });
      return (await deliveries.deleteMany({ user_id: userId })).deletedCount;
    },
  };
}
