import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../events/schemas';
import type { StoredEvent } from '../ports';
import { aCompletedEvent, anOutputEvent, at, type MakeRepositories, useRepositories } from './fixtures';

const eventIds = (stored: StoredEvent[]) => stored.map((entry) => entry.event.event_id);

export function describeEventStoreContract(adapterName: string, make: MakeRepositories<'events'>): void {
  describe(`EventStore contract: ${adapterName}`, () => {
    const repos = useRepositories(make);

    const appendOutputs = async (aggregateId: string, count: number, prefix = aggregateId) => {
      const stored = [];
      for (let i = 0; i < count; i++) {
        stored.push(
          await repos().events.append(
            anOutputEvent({
              event_id: `${prefix}-${i}`,
              aggregate_id: aggregateId,
              execution_id: aggregateId,
            }),
          ),
        );
      }
      return stored;
    };

    it('appends with increasing positions and returns the event exactly', async () => {
      const before = Date.now();
      const first = await repos().events.append(anOutputEvent());
      const second = await repos().events.append(aCompletedEvent());
      expect(first).toMatchObject({ event: anOutputEvent(), duplicate: false });
      expect(second).toMatchObject({ event: aCompletedEvent(), duplicate: false });
      expect(second.seq).toBeGreaterThan(first.seq);
      expect(Date.parse(first.stored_at)).toBeGreaterThanOrEqual(before - 1000);
      expect(await repos().events.get('event-completed')).toEqual({
        seq: second.seq,
        event: aCompletedEvent(),
        stored_at: second.stored_at,
      });
    });

    it('keeps any text a script can print, NUL characters included', async () => {
      const event = anOutputEvent({ data: 'a\u0000b ✓\n' });
      const stored = await repos().events.append(event);
      expect((await repos().events.get(event.event_id))?.event).toEqual(event);
      expect(await repos().events.listByAggregate('exec-1')).toEqual([
        { seq: stored.seq, event, stored_at: stored.stored_at },
      ]);
    });

    it('stores an event once and returns the first copy for a duplicate', async () => {
      const first = await repos().events.append(anOutputEvent({ data: 'first' }));
      const again = await repos().events.append(anOutputEvent({ data: 'second' }));
      expect(again).toEqual({ ...first, duplicate: true });
      expect(again.event).toMatchObject({ data: 'first' });
      expect(await repos().events.listByAggregate('exec-1')).toHaveLength(1);
    });

    it('returns null for an unknown event', async () => {
      expect(await repos().events.get('missing')).toBeNull();
    });

    it("lists one aggregate's events oldest first", async () => {
      const a = await appendOutputs('exec-a', 2);
      await appendOutputs('exec-b', 2);
      const a2 = await appendOutputs('exec-a', 1, 'exec-a-late');
      const listed = await repos().events.listByAggregate('exec-a');
      expect(listed).toEqual([...a, ...a2].map(({ duplicate: _d, ...stored }) => stored));
      expect(await repos().events.listByAggregate('exec-none')).toEqual([]);
    });

    it('resumes after a position, filters by type and limits', async () => {
      const outputs = await appendOutputs('exec-1', 4);
      const done = await repos().events.append(aCompletedEvent());
      const afterSecond = await repos().events.listByAggregate('exec-1', { afterSeq: outputs[1]!.seq });
      expect(eventIds(afterSecond)).toEqual(['exec-1-2', 'exec-1-3', 'event-completed']);
      const completed = await repos().events.listByAggregate('exec-1', {
        eventTypes: ['execution_completed'],
      });
      expect(completed.map((entry) => entry.seq)).toEqual([done.seq]);
      const limited = await repos().events.listByAggregate('exec-1', { afterSeq: outputs[0]!.seq, limit: 2 });
      expect(eventIds(limited)).toEqual(['exec-1-1', 'exec-1-2']);
      const both = await repos().events.listByAggregate('exec-1', {
        eventTypes: ['execution_output', 'execution_completed'],
        afterSeq: outputs[3]!.seq,
      });
      expect(eventIds(both)).toEqual(['event-completed']);
      expect(await repos().events.listByAggregate('exec-1', { afterSeq: done.seq })).toEqual([]);
    });

    describe("a user's events", () => {
      /** An event of `userId` (none: no user in its metadata) at `seconds`, from `service`. */
      const userEvent = (
        id: string,
        userId: string | null,
        seconds: number,
        overrides: { aggregate?: string; service?: string; completed?: boolean } = {},
      ): DomainEvent => {
        const base = overrides.completed ? aCompletedEvent() : anOutputEvent();
        const aggregate = overrides.aggregate ?? `exec-${id}`;
        return {
          ...base,
          event_id: id,
          aggregate_id: aggregate,
          execution_id: aggregate,
          timestamp: at(seconds),
          metadata: {
            service_name: overrides.service ?? 'run-pod',
            service_version: '1.0.0',
            ...(userId ? { user_id: userId } : {}),
          },
        } as DomainEvent;
      };
      const appendAll = async (...events: DomainEvent[]) => {
        for (const event of events) await repos().events.append(event);
      };

      it('lists the events naming the user, newest first by time, then by position', async () => {
        await appendAll(
          userEvent('old', 'user-1', 10),
          userEvent('newest', 'user-1', 30),
          userEvent('other-user', 'user-2', 40),
          userEvent('nobody', null, 50),
          userEvent('tie-1', 'user-1', 20),
          userEvent('tie-2', 'user-1', 20),
        );
        expect(eventIds(await repos().events.listByUser('user-1'))).toEqual([
          'newest',
          'tie-2',
          'tie-1',
          'old',
        ]);
        expect(eventIds(await repos().events.listByUser('user-1', { limit: 2 }))).toEqual([
          'newest',
          'tie-2',
        ]);
        expect(await repos().events.listByUser('user-3')).toEqual([]);
        const [first] = await repos().events.listByUser('user-2');
        expect(first).toEqual(await repos().events.get('other-user'));
      });

      it('lists only the given types of the user', async () => {
        await appendAll(
          userEvent('out-1', 'user-1', 1),
          userEvent('done-1', 'user-1', 2, { completed: true }),
          userEvent('out-2', 'user-1', 3),
          userEvent('done-2', 'user-1', 4, { completed: true }),
        );
        const completed = await repos().events.listByUser('user-1', { eventTypes: ['execution_completed'] });
        expect(eventIds(completed)).toEqual(['done-2', 'done-1']);
        expect(
          eventIds(
            await repos().events.listByUser('user-1', { eventTypes: ['execution_completed'], limit: 1 }),
          ),
        ).toEqual(['done-2']);
        expect(await repos().events.listByUser('user-1', { eventTypes: ['result_stored'] })).toEqual([]);
      });

      it('counts the matching events by hour, type, service and user', async () => {
        await appendAll(
          userEvent('before', 'user-1', 3599),
          userEvent('h1-a', 'user-1', 3600),
          userEvent('h1-b', 'user-1', 7199),
          userEvent('h1-c', 'user-1', 3700, { service: 'monitor' }),
          userEvent('h1-d', 'user-1', 3800, { completed: true }),
          userEvent('h3', 'user-1', 3 * 3600 + 5),
          userEvent('other', 'user-2', 3700),
          userEvent('nobody', null, 3750),
        );
        const tallies = await repos().events.tally({ userId: 'user-1', from: at(3600) });
        const row = (hour: number, event_type: string, service_name: string, count: number) => ({
          hour: at(hour),
          event_type,
          service_name,
          user_id: 'user-1',
          count,
        });
        expect(tallies).toEqual([
          row(3600, 'execution_completed', 'run-pod', 1),
          row(3600, 'execution_output', 'monitor', 1),
          row(3600, 'execution_output', 'run-pod', 2),
          row(3 * 3600, 'execution_output', 'run-pod', 1),
        ]);
        // The same moment spelled with an offset.
        expect(await repos().events.tally({ userId: 'user-1', from: '2025-01-01T02:00:00+01:00' })).toEqual(
          tallies,
        );
        expect(await repos().events.tally({ userId: 'user-1', from: at(4 * 3600) })).toEqual([]);
        expect(await repos().events.tally({ userId: 'user-3', from: at(0) })).toEqual([]);
        // Everyone's, within an hour: users apart, events of no user as null.
        expect(
          await repos().events.tally({ from: at(3700), to: at(3750), eventTypes: ['execution_output'] }),
        ).toEqual([
          { ...row(3600, 'execution_output', 'monitor', 1) },
          { ...row(3600, 'execution_output', 'run-pod', 1), user_id: null },
          { ...row(3600, 'execution_output', 'run-pod', 1), user_id: 'user-2' },
        ]);
      });

      it('browses matching events newest first, a page at a time, with the total', async () => {
        await appendAll(
          userEvent('a', 'user-1', 10),
          userEvent('b', 'user-2', 20, { service: 'monitor' }),
          userEvent('c', 'user-1', 30, { completed: true, aggregate: 'exec-shared' }),
          userEvent('d', null, 40, { aggregate: 'exec-shared' }),
          userEvent('e', 'user-1', 50),
        );
        const all = await repos().events.browse({}, { skip: 0, limit: 2 });
        expect(all.total).toBe(5);
        expect(eventIds(all.items)).toEqual(['e', 'd']);
        expect(eventIds((await repos().events.browse({}, { skip: 2, limit: 10 })).items)).toEqual([
          'c',
          'b',
          'a',
        ]);

        const browse = async (filter: Parameters<ReturnType<typeof repos>['events']['browse']>[0]) => {
          const page = await repos().events.browse(filter, { skip: 0, limit: 50 });
          expect(page.total).toBe(page.items.length);
          return eventIds(page.items);
        };
        expect(await browse({ userId: 'user-1' })).toEqual(['e', 'c', 'a']);
        expect(await browse({ aggregateId: 'exec-shared' })).toEqual(['d', 'c']);
        expect(await browse({ eventTypes: ['execution_completed'] })).toEqual(['c']);
        expect(await browse({ serviceName: 'monitor' })).toEqual(['b']);
        expect(await browse({ from: at(20), to: at(40) })).toEqual(['d', 'c', 'b']);
        expect(await browse({ from: '2025-01-01T01:00:20+01:00', to: at(20) })).toEqual(['b']);
        expect(await browse({ userId: 'user-1', from: at(20), eventTypes: ['execution_output'] })).toEqual([
          'e',
        ]);
        // Text search: literal, any letter case, in ids, type, user and service.
        expect(await browse({ searchText: 'MONIT' })).toEqual(['b']);
        expect(await browse({ searchText: 'exec-shar' })).toEqual(['d', 'c']);
        expect(await browse({ searchText: 'completed' })).toEqual(['c']);
        expect(await browse({ searchText: 'user-2' })).toEqual(['b']);
        expect(await browse({ searchText: '.*' })).toEqual([]);
        expect(await repos().events.browse({ userId: 'nobody' }, { skip: 0, limit: 10 })).toEqual({
          items: [],
          total: 0,
        });
      });

      it('selects matching events in stored order after a position, neither skipping nor repeating', async () => {
        await appendAll(
          userEvent('s1', 'user-1', 50),
          userEvent('s2', 'user-2', 10),
          userEvent('s3', 'user-1', 30),
          userEvent('s4', 'user-1', 20),
        );
        const first = await repos().events.select({ userId: 'user-1' }, { limit: 2 });
        expect(eventIds(first)).toEqual(['s1', 's3']);
        await appendAll(userEvent('s5', 'user-1', 5));
        const rest = await repos().events.select(
          { userId: 'user-1' },
          { afterSeq: first.at(-1)!.seq, limit: 10 },
        );
        expect(eventIds(rest)).toEqual(['s4', 's5']);
        expect(await repos().events.select({}, { afterSeq: rest.at(-1)!.seq, limit: 10 })).toEqual([]);
        expect(await repos().events.select({}, { limit: 0 })).toEqual([]);
      });

      it('moves an event to the archive with who deleted it and when', async () => {
        await appendAll(userEvent('keep', 'user-1', 10), userEvent('gone', 'user-1', 20));
        const stored = await repos().events.get('gone');
        const by = { deleted_by: 'admin@example.com', deleted_at: at(100) };

        const archived = await repos().events.archive('gone', by);

        expect(archived).toEqual({ ...stored, ...by });
        expect(await repos().events.get('gone')).toBeNull();
        expect(await repos().events.getArchived('gone')).toEqual(archived);
        expect(eventIds((await repos().events.browse({}, { skip: 0, limit: 10 })).items)).toEqual(['keep']);
        expect(await repos().events.archive('gone', by)).toBeNull();
        expect(await repos().events.archive('never', by)).toBeNull();
        expect(await repos().events.getArchived('keep')).toBeNull();
      });

      it("deletes the user's events and all events of their aggregates, counting each once", async () => {
        await appendAll(
          userEvent('mine', 'user-1', 1, { aggregate: 'exec-mine' }),
          userEvent('mine-unnamed', null, 2, { aggregate: 'exec-mine' }),
          userEvent('mine-elsewhere', 'user-1', 3, { aggregate: 'user-1' }),
          userEvent('theirs', 'user-2', 4, { aggregate: 'exec-theirs' }),
          userEvent('unnamed', null, 5, { aggregate: 'exec-other' }),
        );
        const last = await repos().events.get('unnamed');
        expect(await repos().events.deleteForUser('user-1', ['exec-mine', 'exec-gone'])).toBe(3);
        for (const id of ['mine', 'mine-unnamed', 'mine-elsewhere'])
          expect(await repos().events.get(id)).toBeNull();
        expect(await repos().events.listByAggregate('exec-mine')).toEqual([]);
        expect(await repos().events.listByUser('user-1')).toEqual([]);
        expect(eventIds(await repos().events.listByUser('user-2'))).toEqual(['theirs']);
        expect(await repos().events.get('unnamed')).toEqual(last);
        expect(await repos().events.deleteForUser('user-1', ['exec-mine'])).toBe(0);
        // Later events still get later positions.
        const next = await repos().events.append(userEvent('after', 'user-2', 6));
        expect(next.seq).toBeGreaterThan(last!.seq);
      });

      it('deletes the events of many aggregates at once', async () => {
        const aggregates = Array.from({ length: 1200 }, (_, i) => `exec-many-${i}`);
        await appendAll(
          userEvent('first', null, 1, { aggregate: aggregates[0] }),
          userEvent('last', null, 2, { aggregate: aggregates[1199] }),
          userEvent('kept', null, 3, { aggregate: 'exec-kept' }),
        );
        expect(await repos().events.deleteForUser('user-1', aggregates)).toBe(2);
        expect(await repos().events.get('kept')).not.toBeNull();
      });
    });
  });
}
