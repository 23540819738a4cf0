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

      it('counts the events since a moment by hour, type and service', async () => {
        await appendAll(
          userEvent('before', 'user-1', 3599),
          userEvent('h1-a', 'user-1', 3600),
          userEvent('h1-b', 'user-1', 7199),
          userEvent('h1-c', 'user-1', 3700, { service: 'monitor' }),
          userEvent('h1-d', 'user-1', 3800, { completed: true }),
          userEvent('h3', 'user-1', 3 * 3600 + 5),
          userEvent('other', 'user-2', 3700),
        );
        const tallies = await repos().events.tallyByUser('user-1', at(3600));
        expect(tallies).toEqual([
          { hour: at(3600), event_type: 'execution_completed', service_name: 'run-pod', count: 1 },
          { hour: at(3600), event_type: 'execution_output', service_name: 'monitor', count: 1 },
          { hour: at(3600), event_type: 'execution_output', service_name: 'run-pod', count: 2 },
          { hour: at(3 * 3600), event_type: 'execution_output', service_name: 'run-pod', count: 1 },
        ]);
        // The same moment spelled with an offset.
        expect(await repos().events.tallyByUser('user-1', '2025-01-01T02:00:00+01:00')).toEqual(tallies);
        expect(await repos().events.tallyByUser('user-1', at(4 * 3600))).toEqual([]);
        expect(await repos().events.tallyByUser('user-3', at(0))).toEqual([]);
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
