import type { NotificationRecord } from '../../domain/notification';
import type { NotificationRepository } from '../ports';
import { type SqliteDatabase, toMillis } from './database';

/** Shared WHERE clause of list and its count; absent filters are bound as NULL and match everything. */
const LIST_WHERE = `
  WHERE user_id = @userId
    AND (@status IS NULL OR status = @status)
    AND (@includeTags IS NULL OR EXISTS (
      SELECT 1 FROM json_each(notifications.tags) AS t WHERE t.value IN (SELECT value FROM json_each(@includeTags))))
    AND (@excludeTags IS NULL OR NOT EXISTS (
      SELECT 1 FROM json_each(notifications.tags) AS t WHERE t.value IN (SELECT value FROM json_each(@excludeTags))))
    AND (@tagPrefix IS NULL OR EXISTS (
      SELECT 1 FROM json_each(notifications.tags) AS t WHERE substr(t.value, 1, length(@tagPrefix)) = @tagPrefix))`;

export function sqliteNotificationRepository(db: SqliteDatabase): NotificationRepository {
  const sql = {
    insert: db.prepare(
      `INSERT INTO notifications (notification_id, user_id, source_event_id, status, tags, created_ms, doc)
       VALUES (@notification_id, @user_id, @source_event_id, @status, @tags, @created_ms, @doc)
       ON CONFLICT DO NOTHING`,
    ),
    get: db.prepare<[string], { doc: string }>('SELECT doc FROM notifications WHERE notification_id = ?'),
    page: db.prepare<Record<string, unknown>, { doc: string }>(
      `SELECT doc FROM notifications ${LIST_WHERE}
       ORDER BY created_ms DESC, notification_id DESC LIMIT @limit OFFSET @offset`,
    ),
    count: db.prepare<Record<string, unknown>, { n: number }>(
      `SELECT COUNT(*) AS n FROM notifications ${LIST_WHERE}`,
    ),
    countUnread: db.prepare<[string], { n: number }>(
      "SELECT COUNT(*) AS n FROM notifications WHERE user_id = ? AND status = 'delivered'",
    ),
    // A notification read twice keeps the time it was first read.
    markRead: db.prepare<{ userId: string; notificationId: string; at: string }>(
      `UPDATE notifications
       SET status = 'read',
           doc = json_set(doc, '$.status', 'read', '$.read_at', coalesce(json_extract(doc, '$.read_at'), @at))
       WHERE notification_id = @notificationId AND user_id = @userId`,
    ),
    markAllRead: db.prepare<{ userId: string; at: string }>(
      `UPDATE notifications
       SET status = 'read', doc = json_set(doc, '$.status', 'read', '$.read_at', @at)
       WHERE user_id = @userId AND status = 'delivered'`,
    ),
    delete: db.prepare<[string, string]>(
      'DELETE FROM notifications WHERE notification_id = ? AND user_id = ?',
    ),
    deleteForUser: db.prepare<[string]>('DELETE FROM notifications WHERE user_id = ?'),
  };

  const readPage = db.transaction((params: Record<string, unknown>, limit: number, offset: number) => ({
    items: sql.page.all({ ...params, limit, offset }).map((row) => JSON.parse(row.doc) as NotificationRecord),
    total: sql.count.get(params)!.n,
  }));

  const tagList = (tags: string[] | undefined) => (tags && tags.length > 0 ? JSON.stringify(tags) : null);

  return {
    async create(notification) {
      const result = sql.insert.run({
        notification_id: notification.notification_id,
        user_id: notification.user_id,
        source_event_id: notification.source_event_id,
        status: notification.status,
        tags: JSON.stringify(notification.tags),
        created_ms: toMillis(notification.created_at),
        doc: JSON.stringify(notification),
      });
      return result.changes > 0;
    },
    async get(notificationId) {
      const found = sql.get.get(notificationId);
      return found ? (JSON.parse(found.doc) as NotificationRecord) : null;
    },
    async list(userId, filter, paging) {
      const params = {
        userId,
        status: filter.status ?? null,
        includeTags: tagList(filter.includeTags),
        excludeTags: tagList(filter.excludeTags),
        tagPrefix: filter.tagPrefix || null,
      };
      return readPage(params, paging.limit, paging.offset);
    },
    async countUnread(userId) {
      return sql.countUnread.get(userId)!.n;
    },
    async markRead(userId, notificationId, at) {
      return sql.markRead.run({ userId, notificationId, at }).changes > 0;
    },
    async markAllRead(userId, at) {
      return sql.markAllRead.run({ userId, at }).changes;
    },
    async delete(userId, notificationId) {
      return sql.delete.run(notificationId, userId).changes > 0;
    },
    async deleteForUser(userId) {
      return sql.deleteForUser.run(userId).changes;
    },
  };
}
