/**
 * notifications: a user's in-app inbox — list, unread count, mark read, delete — and their channel
 * subscriptions and delivery log (subscriptions.ts). Everyone, admins included, sees and changes only
 * their own notifications; anyone else's id answers 404 as if it did not exist.
 */
import type { Context } from 'hono';
import { toNotificationResponse } from '../../shared/domain/notification';
import { currentUser } from '../../shared/http/auth';
import { notFound, validate } from '../../shared/http/errors';
import { type AppEnv, createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { ListQuery, NotificationIdParam } from './requests';
import { registerSubscriptionRoutes } from './subscriptions';

export const BASE = '/api/v1/notifications';
/** Inbox contents are per user and change with every event: never served from a shared or stale cache. */
const PRIVATE_NO_CACHE = { 'Cache-Control': 'private, no-cache' };

function notificationIdOf(c: Context<AppEnv>): string {
  return validate(NotificationIdParam, { notification_id: c.req.param('notification_id') }, 'path')
    .notification_id;
}

const notificationNotFound = (id: string) => notFound(`Notification ${id} not found`);

export function createNotificationsApp(platform: Platform) {
  const app = createFunctionApp(platform, 'notifications', { publishes: false });
  const repository = platform.store.notifications;
  registerSubscriptionRoutes(app, platform, BASE);

  app.get(BASE, async (c) => {
    const user = currentUser(c);
    const query = validate(
      ListQuery,
      {
        status: c.req.query('status'),
        include_tags: c.req.queries('include_tags'),
        exclude_tags: c.req.queries('exclude_tags'),
        tag_prefix: c.req.query('tag_prefix'),
        limit: c.req.query('limit'),
        offset: c.req.query('offset'),
      },
      'query',
    );
    const [page, unreadCount] = await Promise.all([
      repository.list(
        user.user_id,
        {
          status: query.status,
          includeTags: query.include_tags,
          excludeTags: query.exclude_tags,
          tagPrefix: query.tag_prefix,
        },
        { limit: query.limit, offset: query.offset },
      ),
      repository.countUnread(user.user_id),
    ]);
    return c.json(
      {
        notifications: page.items.map(toNotificationResponse),
        total: page.total,
        unread_count: unreadCount,
      },
      200,
      PRIVATE_NO_CACHE,
    );
  });

  app.get(`${BASE}/unread-count`, async (c) => {
    const user = currentUser(c);
    return c.json({ unread_count: await repository.countUnread(user.user_id) }, 200, PRIVATE_NO_CACHE);
  });

  app.post(`${BASE}/mark-all-read`, async (c) => {
    const user = currentUser(c);
    await repository.markAllRead(user.user_id, platform.now().toISOString());
    return c.body(null, 204);
  });

  app.put(`${BASE}/:notification_id/read`, async (c) => {
    const user = currentUser(c);
    const id = notificationIdOf(c);
    // Ownership decides 404; marking an already read notification again is not an error.
    const notification = await repository.get(id);
    if (!notification || notification.user_id !== user.user_id) throw notificationNotFound(id);
    await repository.markRead(user.user_id, id, platform.now().toISOString());
    return c.body(null, 204);
  });

  app.delete(`${BASE}/:notification_id`, async (c) => {
    const user = currentUser(c);
    const id = notificationIdOf(c);
    if (!(await repository.delete(user.user_id, id))) throw notificationNotFound(id);
    return c.json({ message: 'Notification deleted' });
  });

  return app;
}
