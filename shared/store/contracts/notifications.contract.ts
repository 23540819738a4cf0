import { describe, expect, it } from 'vitest';
import type { NotificationRecord } from '../../domain/notification';
import type { NotificationFilter } from '../ports';
import { aNotification, at, type MakeRepositories, useRepositories } from './fixtures';

const ids = (items: NotificationRecord[]) => items.map((item) => item.notification_id);

export function describeNotificationRepositoryContract(
  adapterName: string,
  make: MakeRepositories<'notifications'>,
): void {
  describe(`NotificationRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);

    const createAll = async (...notifications: NotificationRecord[]) => {
      for (const notification of notifications) await repos().notifications.create(notification);
    };
    const listIds = async (filter: NotificationFilter, userId = 'user-1') => {
      const page = await repos().notifications.list(userId, filter, { limit: 100, offset: 0 });
      expect(page.total).toBe(page.items.length);
      return ids(page.items);
    };

    it('creates a notification and returns it exactly', async () => {
      const notification = aNotification({ tags: [], read_at: null, body: 'line 1\nline "2"' });
      expect(await repos().notifications.create(notification)).toBe(true);
      expect(await repos().notifications.get(notification.notification_id)).toEqual(notification);
      expect(await repos().notifications.get('missing')).toBeNull();
    });

    it('is idempotent on the source event per user', async () => {
      expect(await repos().notifications.create(aNotification())).toBe(true);
      expect(await repos().notifications.create(aNotification({ notification_id: 'notif-2' }))).toBe(false);
      expect(await repos().notifications.get('notif-2')).toBeNull();
      expect(
        await repos().notifications.create(aNotification({ notification_id: 'notif-3', user_id: 'user-2' })),
      ).toBe(true);
      expect((await repos().notifications.list('user-1', {}, { limit: 10, offset: 0 })).total).toBe(1);
    });

    it("lists only the user's notifications, newest first, with paging", async () => {
      await createAll(
        aNotification({ notification_id: 'n1', source_event_id: 'e1', created_at: at(1) }),
        aNotification({ notification_id: 'n3', source_event_id: 'e3', created_at: at(3) }),
        aNotification({ notification_id: 'n2', source_event_id: 'e2', created_at: at(2) }),
        aNotification({ notification_id: 'x', source_event_id: 'e4', user_id: 'user-2', created_at: at(9) }),
      );
      expect(await listIds({})).toEqual(['n3', 'n2', 'n1']);
      const second = await repos().notifications.list('user-1', {}, { limit: 2, offset: 2 });
      expect(ids(second.items)).toEqual(['n1']);
      expect(second.total).toBe(3);
    });

    it('filters by status', async () => {
      await createAll(
        aNotification({ notification_id: 'n1', source_event_id: 'e1', status: 'delivered' }),
        aNotification({ notification_id: 'n2', source_event_id: 'e2', status: 'read' }),
      );
      expect(await listIds({ status: 'read' })).toEqual(['n2']);
      expect(await listIds({ status: 'delivered' })).toEqual(['n1']);
    });

    it('filters by tags: any included tag, no excluded tag, and a literal prefix', async () => {
      await createAll(
        aNotification({
          notification_id: 'n1',
          source_event_id: 'e1',
          created_at: at(1),
          tags: ['exec.done', 'a'],
        }),
        aNotification({
          notification_id: 'n2',
          source_event_id: 'e2',
          created_at: at(2),
          tags: ['execXdone', 'b'],
        }),
        aNotification({ notification_id: 'n3', source_event_id: 'e3', created_at: at(3), tags: ['a', 'b'] }),
        aNotification({ notification_id: 'n4', source_event_id: 'e4', created_at: at(4), tags: [] }),
        aNotification({ notification_id: 'n5', source_event_id: 'e5', created_at: at(5), tags: ['[x]*+'] }),
      );
      expect(await listIds({ includeTags: ['a'] })).toEqual(['n3', 'n1']);
      expect(await listIds({ includeTags: ['b', 'exec.done'] })).toEqual(['n3', 'n2', 'n1']);
      expect(await listIds({ excludeTags: ['a'] })).toEqual(['n5', 'n4', 'n2']);
      expect(await listIds({ includeTags: ['b'], excludeTags: ['a'] })).toEqual(['n2']);
      expect(await listIds({ tagPrefix: 'exec.' })).toEqual(['n1']);
      expect(await listIds({ tagPrefix: '[x]' })).toEqual(['n5']);
      expect(await listIds({ tagPrefix: '.*' })).toEqual([]);
      expect(await listIds({ includeTags: [], excludeTags: [] })).toEqual(['n5', 'n4', 'n3', 'n2', 'n1']);
    });

    it('counts delivered notifications as unread', async () => {
      await createAll(
        aNotification({ notification_id: 'n1', source_event_id: 'e1', status: 'delivered' }),
        aNotification({ notification_id: 'n2', source_event_id: 'e2', status: 'delivered' }),
        aNotification({ notification_id: 'n3', source_event_id: 'e3', status: 'read' }),
        aNotification({ notification_id: 'n4', source_event_id: 'e4', status: 'pending' }),
        aNotification({
          notification_id: 'n5',
          source_event_id: 'e5',
          status: 'delivered',
          user_id: 'user-2',
        }),
      );
      expect(await repos().notifications.countUnread('user-1')).toBe(2);
    });

    it("marks one of the owner's notifications read, keeping the first read time", async () => {
      await createAll(aNotification());
      expect(await repos().notifications.markRead('user-2', 'notif-1', at(5))).toBe(false);
      expect((await repos().notifications.get('notif-1'))?.status).toBe('delivered');
      expect(await repos().notifications.markRead('user-1', 'missing', at(5))).toBe(false);

      expect(await repos().notifications.markRead('user-1', 'notif-1', at(5))).toBe(true);
      expect(await repos().notifications.get('notif-1')).toEqual({
        ...aNotification(),
        status: 'read',
        read_at: at(5),
      });
      expect(await repos().notifications.countUnread('user-1')).toBe(0);
      expect(await listIds({ status: 'read' })).toEqual(['notif-1']);

      expect(await repos().notifications.markRead('user-1', 'notif-1', at(9))).toBe(true);
      expect((await repos().notifications.get('notif-1'))?.read_at).toBe(at(5));
    });

    it("marks all of one user's unread notifications read and returns how many", async () => {
      await createAll(
        aNotification({ notification_id: 'n1', source_event_id: 'e1' }),
        aNotification({ notification_id: 'n2', source_event_id: 'e2' }),
        aNotification({ notification_id: 'n3', source_event_id: 'e3', status: 'read', read_at: at(1) }),
        aNotification({ notification_id: 'n4', source_event_id: 'e4', user_id: 'user-2' }),
      );
      expect(await repos().notifications.markAllRead('user-1', at(7))).toBe(2);
      expect(await repos().notifications.get('n1')).toMatchObject({ status: 'read', read_at: at(7) });
      expect(await repos().notifications.get('n3')).toMatchObject({ status: 'read', read_at: at(1) });
      expect(await repos().notifications.get('n4')).toMatchObject({ status: 'delivered', read_at: null });
      expect(await repos().notifications.countUnread('user-1')).toBe(0);
      expect(await repos().notifications.countUnread('user-2')).toBe(1);
      expect(await repos().notifications.markAllRead('user-1', at(8))).toBe(0);
    });

    it("deletes only the owner's notification", async () => {
      await createAll(aNotification());
      expect(await repos().notifications.delete('user-2', 'notif-1')).toBe(false);
      expect(await repos().notifications.get('notif-1')).not.toBeNull();
      expect(await repos().notifications.delete('user-1', 'notif-1')).toBe(true);
      expect(await repos().notifications.get('notif-1')).toBeNull();
      expect(await repos().notifications.delete('user-1', 'notif-1')).toBe(false);
    });

    it("deletes every notification of one user and nobody else's", async () => {
      await createAll(
        aNotification({ notification_id: 'n1', source_event_id: 'e1' }),
        aNotification({ notification_id: 'n2', source_event_id: 'e2' }),
        aNotification({ notification_id: 'n3', source_event_id: 'e1', user_id: 'user-2' }),
      );
      expect(await repos().notifications.deleteForUser('user-1')).toBe(2);
      expect(await repos().notifications.get('n1')).toBeNull();
      expect(await repos().notifications.list('user-1', {}, { limit: 10, offset: 0 })).toEqual({
        items: [],
        total: 0,
      });
      expect(await repos().notifications.get('n3')).not.toBeNull();
      expect(await repos().notifications.deleteForUser('user-1')).toBe(0);
      // The same source event may notify the user afresh.
      expect(
        await repos().notifications.create(aNotification({ notification_id: 'n4', source_event_id: 'e1' })),
      ).toBe(true);
    });
  });
}
