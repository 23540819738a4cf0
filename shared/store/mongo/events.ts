import { type Collection, type Document, type Filter, MongoBulkWriteError } from 'mongodb';
import type { DomainEvent, EventType } from '../../events/schemas';
import type { ArchivedEvent, EventFilter, EventStore, EventTally, StoredEvent } from '../ports';
import {
  fromStorable,
  inChunks,
  isDuplicateKeyWrite,
  type StoredDocument,
  storable,
  toDate,
} from './documents';

/** The counters document whose `seq` is the highest position known to be taken. */
export const EVENT_SEQ_COUNTER = 'events';

// Collisions on a position before the hint is re-read, and before the append gives up.
const REREAD_AFTER = 8;
const MAX_COLLISIONS = 10_000;
// Events written by one insert at most.
const MAX_BATCH = 256;
// The hint is written at most this often by one process.
const HINT_INTERVAL_MS = 25;

interface PendingAppend {
  event: DomainEvent;
  resolve(stored: StoredEvent & { duplicate: boolean }): void;
  reject(error: unknown): void;
}

/** Where a stored event names its user and its time (the event is stored whole under `event`). */
const USER_FIELD = 'event.metadata.user_id';
const TIME_FIELD = 'event.timestamp';
/** Newest first by the event's time: timestamps are UTC ISO strings, so text order is time order. */
const NEWEST_BY_TIME = { [TIME_FIELD]: -1, seq: -1 } as const;
const HOUR_MS = 3_600_000;

const toStored = (document: Document): StoredEvent => ({
  seq: document.seq as number,
  event: fromStorable(document.event) as DomainEvent,
  stored_at: document.stored_at as string,
});

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The query for a filter; times compare as text, which is time order for UTC ISO timestamps. */
function queryOf(filter: EventFilter): Filter<StoredDocument> {
  const query: Filter<StoredDocument> = {};
  if (filter.eventTypes && filter.eventTypes.length > 0) query.event_type = { $in: [...filter.eventTypes] };
  if (filter.aggregateId !== undefined) query.aggregate_id = filter.aggregateId;
  if (filter.userId !== undefined) query[USER_FIELD] = filter.userId;
  if (filter.serviceName !== undefined) query['event.metadata.service_name'] = filter.serviceName;
  if (filter.from !== undefined || filter.to !== undefined) {
    query[TIME_FIELD] = {
      ...(filter.from !== undefined && { $gte: toDate(filter.from).toISOString() }),
      ...(filter.to !== undefined && { $lte: toDate(filter.to).toISOString() }),
    };
  }
  if (filter.searchText) {
    const pattern = { $regex: escapeRegex(filter.searchText), $options: 'i' };
    query.$or = ['_id', 'event_type', 'aggregate_id', USER_FIELD, 'event.metadata.service_name'].map(
      (field) => ({ [field]: pattern }),
    );
  }
  return query;
}

const toArchived = (document: Document): ArchivedEvent => ({
  ...toStored(document),
  deleted_by: document.deleted_by as string,
  deleted_at: document.deleted_at as string,
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
  archive: Collection<StoredDocument>,
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

  // This process's appends are written in batches, one batch at a time, from the last position it
  // took: concurrent appends would otherwise all race for the same position and retry each other out,
  // and one insert per batch keeps the store's round trips per event low under load.
  let lastTaken = 0;
  const pending: PendingAppend[] = [];
  let writing = false;

  async function writeBatch(batch: PendingAppend[]): Promise<void> {
    let seq = (lastTaken > 0 ? lastTaken : await hint()) + 1;
    let collisions = 0;
    while (batch.length > 0) {
      const stored_at = new Date().toISOString();
      const documents = batch.map(({ event }, i) => ({
        _id: event.event_id,
        seq: seq + i,
        stored_at,
        aggregate_id: event.aggregate_id,
        event_type: event.event_type,
        event: storable(event),
      }));
      const written = await insertInOrder(documents);
      batch.splice(0, written.inserted).forEach(({ event, resolve }, i) => {
        resolve({ seq: seq + i, event, stored_at, duplicate: false });
      });
      seq += written.inserted;
      if (written.inserted > 0) lastTaken = seq - 1;
      if (!written.failed) break;
      const refused = batch.shift()!;
      const first = await get(refused.event.event_id);
      if (first) {
        // Already stored (a re-run publisher): its position stays free for the next event.
        refused.resolve({ ...first, duplicate: true });
        continue;
      }
      // The position was taken by another process: move past it.
      batch.unshift(refused);
      if (++collisions >= MAX_COLLISIONS)
        throw new Error(`could not find a free event position after ${MAX_COLLISIONS} attempts`);
      seq = collisions % REREAD_AFTER === 0 ? Math.max(seq, await highestTaken()) + 1 : seq + 1;
      seq = Math.max(seq, (await hint()) + 1);
    }
    advanceHint();
  }

  // The hint is written off the append path and best effort: it only ever names a taken position, so
  // a lost or late write (or two racing upserts, one refused as a duplicate) is harmless. An append
  // after a quiet spell writes it at once, so other processes find the new position; under load one
  // write per HINT_INTERVAL_MS carries every batch since the last one (each write is an upsert that
  // costs the server more than the insert it follows).
  let hintWritten = 0;
  let hintTimer: NodeJS.Timeout | undefined;
  let lastHintAt = Number.NEGATIVE_INFINITY;
  function advanceHint(): void {
    if (lastTaken <= hintWritten || hintTimer) return;
    const wait = lastHintAt + HINT_INTERVAL_MS - Date.now();
    if (wait > 0) {
      hintTimer = setTimeout(() => {
        hintTimer = undefined;
        advanceHint();
      }, wait);
      hintTimer.unref();
      return;
    }
    lastHintAt = Date.now();
    hintWritten = lastTaken;
    void counters
      .updateOne({ _id: EVENT_SEQ_COUNTER }, { $max: { seq: lastTaken } }, { upsert: true })
      .catch(() => undefined);
  }

  /** Inserts in order and stops at the first refused document; says how many went in before it. */
  async function insertInOrder(documents: StoredDocument[]): Promise<{ inserted: number; failed: boolean }> {
    try {
      await events.insertMany(documents, { ordered: true });
      return { inserted: documents.length, failed: false };
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      const [refusal] = [error.writeErrors].flat();
      if (!refusal || !isDuplicateKeyWrite(refusal)) throw error;
      return { inserted: refusal.index, failed: true };
    }
  }

  async function drain(): Promise<void> {
    writing = true;
    while (pending.length > 0) {
      const batch = pending.splice(0, MAX_BATCH);
      await writeBatch([...batch]).catch((error) => {
        for (const { reject } of batch) reject(error);
      });
    }
    writing = false;
  }

  return {
    append(event) {
      return new Promise((resolve, reject) => {
        pending.push({ event, resolve, reject });
        if (!writing) void drain();
      });
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
    async listByUser(userId, options = {}) {
      if (options.limit !== undefined && options.limit <= 0) return [];
      const query: Filter<StoredDocument> = { [USER_FIELD]: userId };
      if (options.eventTypes && options.eventTypes.length > 0)
        query.event_type = { $in: [...options.eventTypes] };
      let cursor = events.find(query).sort(NEWEST_BY_TIME);
      if (options.limit !== undefined) cursor = cursor.limit(options.limit);
      return (await cursor.toArray()).map(toStored);
    },
    async browse(filter, paging) {
      const query = queryOf(filter);
      const [total, page] = await Promise.all([
        events.countDocuments(query),
        paging.limit > 0
          ? events.find(query).sort(NEWEST_BY_TIME).skip(paging.skip).limit(paging.limit).toArray()
          : [],
      ]);
      return { items: page.map(toStored), total };
    },
    async select(filter, options) {
      if (options.limit <= 0) return [];
      const query = { ...queryOf(filter), seq: { $gt: options.afterSeq ?? 0 } };
      return (await events.find(query).sort({ seq: 1 }).limit(options.limit).toArray()).map(toStored);
    },
    async tally(filter) {
      // Only the fields counted travel; the counting happens here (no aggregation pipeline).
      const found = events.find(queryOf(filter), {
        projection: {
          _id: 0,
          event_type: 1,
          'event.metadata.service_name': 1,
          [USER_FIELD]: 1,
          [TIME_FIELD]: 1,
        },
      });
      const tallies = new Map<string, EventTally>();
      for await (const document of found) {
        const event = document.event as {
          timestamp: string;
          metadata?: { service_name?: string; user_id?: string };
        };
        const ms = Date.parse(event.timestamp);
        if (Number.isNaN(ms)) continue;
        const hour = new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString();
        const eventType = document.event_type as EventType;
        const serviceName = event.metadata?.service_name ?? '';
        const userId = event.metadata?.user_id ?? null;
        const key = JSON.stringify([hour, eventType, serviceName, userId]);
        const tally = tallies.get(key) ?? {
          event_type: eventType,
          service_name: serviceName,
          user_id: userId,
          hour,
          count: 0,
        };
        tally.count++;
        tallies.set(key, tally);
      }
      return [...tallies.values()].sort(
        (a, b) =>
          a.hour.localeCompare(b.hour) ||
          a.event_type.localeCompare(b.event_type) ||
          a.service_name.localeCompare(b.service_name) ||
          (a.user_id ?? '').localeCompare(b.user_id ?? ''),
      );
    },
    async archive(eventId, by) {
      const document = await events.findOne({ _id: eventId });
      if (!document) return null;
      // Archived first, then deleted: a crash in between leaves a copy, never a loss.
      const archived = { ...document, ...by };
      await archive.replaceOne({ _id: eventId }, archived, { upsert: true });
      await events.deleteOne({ _id: eventId });
      return toArchived(archived);
    },
    async getArchived(eventId) {
      const document = await archive.findOne({ _id: eventId });
      return document ? toArchived(document) : null;
    },
    async deleteForUser(userId, aggregateIds) {
      let deleted = (await events.deleteMany({ [USER_FIELD]: userId })).deletedCount;
      for (const chunk of inChunks(aggregateIds))
        deleted += (await events.deleteMany({ aggregate_id: { $in: chunk } })).deletedCount;
      return deleted;
    },
  };
}
