import { describe, expect, it } from 'vitest';
import type { DeliveryAttempt, DeliveryRecord } from '../../domain/notification-delivery';
import { at, type MakeRepositories, useRepositories } from './fixtures';

export const aDelivery = (overrides: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  delivery_id: 'delivery-1',
  notification_id: 'notif-1',
  user_id: 'user-1',
  channel: 'webhook',
  status: 'pending',
  message: {
    subject: 'Execution failed',
    body: 'Execution 3f2b8c1e failed: script error, exit code 1.\u0000',
    severity: 'high',
    tags: ['execution', 'failed'],
    action_url: '/editor?execution=exec-1',
    created_at: at(0),
  },
  attempts: 0,
  next_attempt_at: at(10),
  held_for: null,
  last_status_code: null,
  last_error: null,
  created_at: at(0),
  updated_at: at(0),
  delivered_at: null,
  ...overrides,
});

export const anAttempt = (overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt => ({
  delivery_id: 'delivery-1',
  attempt: 1,
  user_id: 'user-1',
  channel: 'webhook',
  target: 'https://hooks.example.com',
  started_at: at(10),
  finished_at: null,
  duration_ms: null,
  outcome: 'in_progress',
  status_code: null,
  error: null,
  ...overrides,
});

export function describeNotificationDeliveryRepositoryContract(
  adapterName: string,
  make: MakeRepositories<'notificationDeliveries'>,
): void {
  describe(`NotificationDeliveryRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);
    const ids = (items: DeliveryRecord[]) => items.map((item) => item.delivery_id);

    it('creates a delivery once and returns it exactly', async () => {
      const delivery = aDelivery();
      expect(await repos().notificationDeliveries.create(delivery)).toBe(true);
      expect(await repos().notificationDeliveries.create(aDelivery({ attempts: 3 }))).toBe(false);
      expect(await repos().notificationDeliveries.get('delivery-1')).toEqual(delivery);
      expect(await repos().notificationDeliveries.get('missing')).toBeNull();
    });

    it('lists the pending deliveries that are due, earliest first, and tells when the next one is', async () => {
      expect(await repos().notificationDeliveries.nextDue()).toBeNull();
      await repos().notificationDeliveries.create(
        aDelivery({ delivery_id: 'later', next_attempt_at: at(30) }),
      );
      await repos().notificationDeliveries.create(
        aDelivery({ delivery_id: 'sooner', next_attempt_at: at(5) }),
      );
      await repos().notificationDeliveries.create(aDelivery({ delivery_id: 'due', next_attempt_at: at(20) }));
      await repos().notificationDeliveries.create(
        aDelivery({ delivery_id: 'done', status: 'delivered', next_attempt_at: null, delivered_at: at(1) }),
      );
      expect(ids(await repos().notificationDeliveries.listDue(at(20), 10))).toEqual(['sooner', 'due']);
      expect(ids(await repos().notificationDeliveries.listDue(at(20), 1))).toEqual(['sooner']);
      expect(await repos().notificationDeliveries.listDue(at(4), 10)).toEqual([]);
      expect(await repos().notificationDeliveries.nextDue()).toBe(at(5));
    });

    it('replaces a delivery on update; a settled one is no longer due', async () => {
      await repos().notificationDeliveries.create(aDelivery());
      const retried = aDelivery({
        attempts: 1,
        next_attempt_at: at(40),
        held_for: 'throttle',
        last_status_code: 503,
        last_error: 'HTTP 503',
        updated_at: at(11),
      });
      await repos().notificationDeliveries.update(retried);
      expect(await repos().notificationDeliveries.get('delivery-1')).toEqual(retried);
      expect(await repos().notificationDeliveries.listDue(at(39), 10)).toEqual([]);
      expect(await repos().notificationDeliveries.nextDue()).toBe(at(40));

      const delivered = {
        ...retried,
        status: 'delivered' as const,
        next_attempt_at: null,
        delivered_at: at(41),
      };
      await repos().notificationDeliveries.update(delivered);
      expect(await repos().notificationDeliveries.listDue(at(1000), 10)).toEqual([]);
      expect(await repos().notificationDeliveries.nextDue()).toBeNull();
      expect(await repos().notificationDeliveries.get('delivery-1')).toEqual(delivered);
    });

    it("lists one user's deliveries newest first, by channel when asked, with a total and paging", async () => {
      const made = [
        aDelivery({ delivery_id: 'd-1', created_at: at(1) }),
        aDelivery({ delivery_id: 'd-2', created_at: at(3), channel: 'slack' }),
        aDelivery({ delivery_id: 'd-3', created_at: at(2) }),
        aDelivery({ delivery_id: 'd-4', created_at: at(2) }),
        aDelivery({ delivery_id: 'other', created_at: at(9), user_id: 'user-2' }),
      ];
      for (const delivery of made) await repos().notificationDeliveries.create(delivery);
      const all = await repos().notificationDeliveries.listForUser('user-1', {}, { limit: 10, offset: 0 });
      expect(ids(all.items)).toEqual(['d-2', 'd-4', 'd-3', 'd-1']);
      expect(all.total).toBe(4);
      const webhooks = await repos().notificationDeliveries.listForUser(
        'user-1',
        { channel: 'webhook' },
        { limit: 2, offset: 1 },
      );
      expect(ids(webhooks.items)).toEqual(['d-3', 'd-1']);
      expect(webhooks.total).toBe(3);
    });

    it('lets exactly one of racing claims of the same attempt win', async () => {
      const claims = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          repos().notificationDeliveries.beginAttempt(
            anAttempt({ target: `https://racer-${i}.example.com` }),
          ),
        ),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      const winner = claims.indexOf(true);
      expect(await repos().notificationDeliveries.getAttempt('delivery-1', 1)).toEqual(
        anAttempt({ target: `https://racer-${winner}.example.com` }),
      );
      expect(await repos().notificationDeliveries.beginAttempt(anAttempt({ attempt: 2 }))).toBe(true);
      expect(await repos().notificationDeliveries.getAttempt('delivery-1', 3)).toBeNull();
    });

    it('records the outcome of an attempt and lists attempts by delivery, then number', async () => {
      await repos().notificationDeliveries.beginAttempt(anAttempt({ delivery_id: 'b', attempt: 2 }));
      await repos().notificationDeliveries.beginAttempt(anAttempt({ delivery_id: 'a', attempt: 1 }));
      await repos().notificationDeliveries.beginAttempt(anAttempt({ delivery_id: 'b', attempt: 1 }));
      await repos().notificationDeliveries.beginAttempt(anAttempt({ delivery_id: 'c', attempt: 1 }));
      const finished = anAttempt({
        delivery_id: 'b',
        attempt: 1,
        finished_at: at(11),
        duration_ms: 812.5,
        outcome: 'failed',
        status_code: 500,
        error: 'HTTP 500',
      });
      await repos().notificationDeliveries.finishAttempt(finished);
      expect(await repos().notificationDeliveries.getAttempt('b', 1)).toEqual(finished);
      const listed = await repos().notificationDeliveries.attemptsOf(['b', 'a', 'missing']);
      expect(listed.map((a) => `${a.delivery_id}#${a.attempt}`)).toEqual(['b#1', 'b#2', 'a#1']);
      expect(await repos().notificationDeliveries.attemptsOf([])).toEqual([]);
    });

    it("gives the start times of one user's attempts on one channel since a moment, oldest first", async () => {
      const attempts = [
        anAttempt({ delivery_id: 'x', attempt: 1, started_at: at(30) }),
        anAttempt({ delivery_id: 'y', attempt: 1, started_at: at(10) }),
        anAttempt({ delivery_id: 'y', attempt: 2, started_at: at(20) }),
        anAttempt({ delivery_id: 'old', attempt: 1, started_at: at(5) }),
        anAttempt({ delivery_id: 's', attempt: 1, started_at: at(25), channel: 'slack' }),
        anAttempt({ delivery_id: 'u', attempt: 1, started_at: at(25), user_id: 'user-2' }),
      ];
      for (const attempt of attempts) await repos().notificationDeliveries.beginAttempt(attempt);
      expect(await repos().notificationDeliveries.attemptTimesSince('user-1', 'webhook', at(10))).toEqual([
        at(10),
        at(20),
        at(30),
      ]);
      expect(await repos().notificationDeliveries.attemptTimesSince('user-1', 'slack', at(0))).toEqual([
        at(25),
      ]);
      expect(await repos().notificationDeliveries.attemptTimesSince('user-1', 'webhook', at(31))).toEqual([]);
    });

    it("deletes one user's deliveries and attempts and no one else's", async () => {
      await repos().notificationDeliveries.create(aDelivery());
      await repos().notificationDeliveries.beginAttempt(anAttempt());
      await repos().notificationDeliveries.create(aDelivery({ delivery_id: 'theirs', user_id: 'user-2' }));
      await repos().notificationDeliveries.beginAttempt(
        anAttempt({ delivery_id: 'theirs', user_id: 'user-2' }),
      );
      expect(await repos().notificationDeliveries.deleteForUser('user-1')).toBe(1);
      expect(await repos().notificationDeliveries.get('delivery-1')).toBeNull();
      expect(await repos().notificationDeliveries.getAttempt('delivery-1', 1)).toBeNull();
      expect(await repos().notificationDeliveries.get('theirs')).not.toBeNull();
      expect(await repos().notificationDeliveries.getAttempt('theirs', 1)).not.toBeNull();
    });
  });
}
