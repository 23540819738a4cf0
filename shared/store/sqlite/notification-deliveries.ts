import type { DeliveryAttempt, DeliveryRecord } from '../../domain/notification-delivery';
import type { NotificationDeliveryRepository } from '../ports';
import { type SqliteDatabase, toMillis } from './database';

type Doc = { doc: string };

export function sqliteNotificationDeliveryRepository(db: SqliteDatabase): NotificationDeliveryRepository {
  const sql = {
    insert: db.prepare(
      `INSERT INTO notification_deliveries (delivery_id, user_id, channel, status, due_ms, created_ms, doc)
       VALUES (@delivery_id, @user_id, @channel, @status, @due_ms, @created_ms, @doc)
       ON CONFLICT DO NOTHING`,
    ),
    update: db.prepare(
      `UPDATE notification_deliveries SET status = @status, due_ms = @due_ms, doc = @doc
       WHERE delivery_id = @delivery_id`,
    ),
    get: db.prepare<[string], Doc>('SELECT doc FROM notification_deliveries WHERE delivery_id = ?'),
    due: db.prepare<[number, number], Doc>(
      `SELECT doc FROM notification_deliveries WHERE status = 'pending' AND due_ms <= ?
       ORDER BY due_ms, delivery_id LIMIT ?`,
    ),
    nextDue: db.prepare<[], { due_ms: number | null }>(
      "SELECT MIN(due_ms) AS due_ms FROM notification_deliveries WHERE status = 'pending'",
    ),
    page: db.prepare<{ userId: string; channel: string | null; limit: number; offset: number }, Doc>(
      `SELECT doc FROM notification_deliveries WHERE user_id = @userId AND (@channel IS NULL OR channel = @channel)
       ORDER BY created_ms DESC, delivery_id DESC LIMIT @limit OFFSET @offset`,
    ),
    count: db.prepare<{ userId: string; channel: string | null }, { n: number }>(
      `SELECT COUNT(*) AS n FROM notification_deliveries
       WHERE user_id = @userId AND (@channel IS NULL OR channel = @channel)`,
    ),
    claim: db.prepare(
      `INSERT INTO notification_delivery_attempts (delivery_id, attempt, user_id, channel, started_ms, doc)
       VALUES (@delivery_id, @attempt, @user_id, @channel, @started_ms, @doc)
       ON CONFLICT DO NOTHING`,
    ),
    finish: db.prepare<{ delivery_id: string; attempt: number; doc: string }>(
      'UPDATE notification_delivery_attempts SET doc = @doc WHERE delivery_id = @delivery_id AND attempt = @attempt',
    ),
    getAttempt: db.prepare<[string, number], Doc>(
      'SELECT doc FROM notification_delivery_attempts WHERE delivery_id = ? AND attempt = ?',
    ),
    attemptsOf: db.prepare<[string], Doc>(
      'SELECT doc FROM notification_delivery_attempts WHERE delivery_id = ? ORDER BY attempt',
    ),
    startedSince: db.prepare<[string, string, number], { started_ms: number }>(
      `SELECT started_ms FROM notification_delivery_attempts
       WHERE user_id = ? AND channel = ? AND started_ms >= ? ORDER BY started_ms`,
    ),
    deleteAttempts: db.prepare<[string]>('DELETE FROM notification_delivery_attempts WHERE user_id = ?'),
    deleteDeliveries: db.prepare<[string]>('DELETE FROM notification_deliveries WHERE user_id = ?'),
  };

  const row = (delivery: DeliveryRecord) => ({
    delivery_id: delivery.delivery_id,
    user_id: delivery.user_id,
    channel: delivery.channel,
    status: delivery.status,
    due_ms: delivery.next_attempt_at === null ? null : toMillis(delivery.next_attempt_at),
    created_ms: toMillis(delivery.created_at),
    doc: JSON.stringify(delivery),
  });
  const attemptRow = (attempt: DeliveryAttempt) => ({
    delivery_id: attempt.delivery_id,
    attempt: attempt.attempt,
    user_id: attempt.user_id,
    channel: attempt.channel,
    started_ms: toMillis(attempt.started_at),
    doc: JSON.stringify(attempt),
  });
  const delivery = (found: Doc) => JSON.parse(found.doc) as DeliveryRecord;
  const attempt = (found: Doc) => JSON.parse(found.doc) as DeliveryAttempt;

  const readPage = db.transaction(
    (userId: string, channel: string | null, limit: number, offset: number) => ({
      items: sql.page.all({ userId, channel, limit, offset }).map(delivery),
      total: sql.count.get({ userId, channel })!.n,
    }),
  );
  const deleteForUser = db.transaction((userId: string) => {
    sql.deleteAttempts.run(userId);
    return sql.deleteDeliveries.run(userId).changes;
  });

  return {
    async create(record) {
      return sql.insert.run(row(record)).changes > 0;
    },
    async get(deliveryId) {
      const found = sql.get.get(deliveryId);
      return found ? delivery(found) : null;
    },
    async update(record) {
      const { delivery_id, status, due_ms, doc } = row(record);
      sql.update.run({ delivery_id, status, due_ms, doc });
    },
    async listDue(now, limit) {
      return sql.due.all(toMillis(now), limit).map(delivery);
    },
    async nextDue() {
      const { due_ms } = sql.nextDue.get()!;
      return due_ms === null ? null : new Date(due_ms).toISOString();
    },
    async listForUser(userId, filter, paging) {
      return readPage(userId, filter.channel ?? null, paging.limit, paging.offset);
    },
    async beginAttempt(record) {
      return sql.claim.run(attemptRow(record)).changes > 0;
    },
    async finishAttempt(record) {
      sql.finish.run({
        delivery_id: record.delivery_id,
        attempt: record.attempt,
        doc: JSON.stringify(record),
      });
    },
    async getAttempt(deliveryId, number) {
      const found = sql.getAttempt.get(deliveryId, number);
      return found ? attempt(found) : null;
    },
    async attemptsOf(deliveryIds) {
      return deliveryIds.flatMap((id) => sql.attemptsOf.all(id).map(attempt));
    },
    async attemptTimesSince(userId, channel, since) {
      return sql.startedSince
        .all(userId, channel, toMillis(since))
        .map((found) => new Date(found.started_ms).toISOString());
    },
    async deleteForUser(userId) {
      return deleteForUser(userId);
    },
  };
}
