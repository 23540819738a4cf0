import type { Collection, Document, Filter } from 'mongodb';
import type { DomainEvent } from '../../events/schemas';
import type { EventStore, StoredEvent } from '../ports';
import { isDuplicateKey, type StoredDocument } from './documents';

/** The counters document whose `seq` is the highest position known to be taken. */
export const EVENT_SEQ_COUNTER = 'events';

// Collisions on a position before the hint is re-read, and before the append gives up.
const REREAD_AFTER = 8;
const MAX_COLLISIONS = 10_000;

const toStored = (document: Document): StoredEvent => ({
  seq: document.seq as number,
  event: document.event as DomainEvent,
  stored_at: document.stored_at as string,
});

/**
 * Events keyed by event id, each with a position `seq` under a unique index. A position is taken by
 * inserting the event with it, so taking it and storing the event are one atomic step: positions
 * become visible in order and a reader that has seen `seq` n never later finds a new event below n.
 * The counters document only hints where the next free position is; a stale hint costs retries,
 * never a reused or out-of-order position, because every position up to the hint is already taken.
 */
export function mongoEventStore(
  events: Collection<StoredDocument>,
  counters: Collection<StoredDocument>,
): EventStore {
  const hint = async (): Promise<number> => {
    const counter = await counters.findOne({ _id: EVENT_SEQ_COUNTER });
    return typeof counter?.seq === 'number' ? counter.seq : 0;
  };
  // A scan, for when the hint has fallen far behind (the counters document was lost or reset).
  const highestTaken = async (): Promise<number> => {
    const [last] = await events
      .find({}, { projection: { seq: 1 } })
      .sort({ seq: -1 })
      .limit(1)
      .toArray();
    return typeof last?.seq === 'number' ? last.seq : 0;
  };
  const get = async (eventId: string): Promise<StoredEvent | null> => {
    const document = await events.findOne({ _id: eventId });
    return document ? toStored(document) : null;
  };

  // This process's appends run one at a time from the last position it took: concurrent requests
  // in one process would otherwise all race for the same position and retry each other out.
  let lastTaken = 0;
  let queue: Promise<unknown> = Promise.resolve();

  async function appendOne(event: DomainEvent): Promise<StoredEvent & { duplicate: boolean }> {
    let seq = (lastTaken > 0 ? lastTaken : await hint()) + 1;
    for (let collisions = 0; collisions < MAX_COLLISIONS; collisions++) {
      const stored_at = new Date().toISOString();
      try {
        await events.insertOne({
          _id: event.event_id,
          seq,
          stored_at,
          aggregate_id: event.aggregate_id,
          event_type: event.event_type,
          event,
        });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        const first = await get(event.event_id);
        if (first) return { ...first, duplicate: true };
        // The position was taken by another event: move past it.
        seq =
          collisions > 0 && collisions % REREAD_AFTER === 0
            ? Math.max(seq, await highestTaken()) + 1
            : seq + 1;
        seq = Math.max(seq, (await hint()) + 1);
        continue;
      }
      lastTaken = seq;
      // Best effort: the hint only ever names a taken position, so a lost or late write is harmless.
      await counters
        .updateOne({ _id: EVENT_SEQ_COUNTER }, { $max: { seq } }, { upsert: true })
        .catch((error) => {
          if (!isDuplicateKey(error)) throw error;
        });
      return { seq, event, stored_at, duplicate: false };
    }
    throw new Error(`could not find a free event position after ${MAX_COLLISIONS} attempts`);
  }

  return {
    append(event) {
      const appended = queue.then(() => appendOne(event));
      queue = appended.catch(() => undefined);
      return appended;
    },
    async listByAggregate(aggregateId, options = {}) {
      if (options.limit !== undefined && options.limit <= 0) return [];
      const query: Filter<StoredDocument> = {
        aggregate_id: aggregateId,
        seq: { $gt: options.afterSeq ?? 0 },
      };
      if (options.eventTypes && options.eventTypes.length > 0)
        query.event_type = { $in: [...options.eventTypes] };
      let cursor = events.find(query).sort({ seq: 1 });
      if (options.limit !== undefined) cursor = cursor.limit(options.limit);
      return (await cursor.toArray()).map(toStored);
    },
    get,
  };
}
