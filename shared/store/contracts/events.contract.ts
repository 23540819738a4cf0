import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../ports';
import { aCompletedEvent, anOutputEvent, type MakeRepositories, useRepositories } from './fixtures';

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
  });
}
