import type { DomainEvent, EventType } from '../../events/schemas';
import type { EventStore, EventTally, StoredEvent } from '../ports';
import type { SqliteDatabase } from './database';

interface EventRow {
  seq: number;
  stored_at: string;
  doc: string;
}

const toStored = (row: EventRow): StoredEvent => ({
  seq: row.seq,
  event: JSON.parse(row.doc) as DomainEvent,
  stored_at: row.stored_at,
});

const HOUR_MS = 3_600_000;

/** Absent event types are bound as NULL and match every type. */
const typeList = (eventTypes: readonly EventType[] | undefined) =>
  eventTypes && eventTypes.length > 0 ? JSON.stringify(eventTypes) : null;

/** Epoch milliseconds of the event's time, or null for one that does not parse (kept, never listed by time). */
const eventMillis = (event: DomainEvent): number | null => {
  const ms = Date.parse(event.timestamp);
  return Number.isNaN(ms) ? null : ms;
};

export function sqliteEventStore(db: SqliteDatabase): EventStore {
  const sql = {
    insert: db.prepare<Record<string, unknown>, EventRow>(
      `INSERT INTO events (event_id, aggregate_id, event_type, stored_at, doc, user_id, created_ms)
       VALUES (@event_id, @aggregate_id, @event_type, @stored_at, @doc, @user_id, @created_ms)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING seq, stored_at, doc`,
    ),
    get: db.prepare<[string], EventRow>('SELECT seq, stored_at, doc FROM events WHERE event_id = ?'),
    // LIMIT -1 means no limit.
    byAggregate: db.prepare<Record<string, unknown>, EventRow>(
      `SELECT seq, stored_at, doc FROM events
       WHERE aggregate_id = @aggregateId AND seq > @afterSeq
         AND (@eventTypes IS NULL OR event_type IN (SELECT value FROM json_each(@eventTypes)))
       ORDER BY seq LIMIT @limit`,
    ),
    byUser: db.prepare<Record<string, unknown>, EventRow>(
      `SELECT seq, stored_at, doc FROM events
       WHERE user_id = @userId
         AND (@eventTypes IS NULL OR event_type IN (SELECT value FROM json_each(@eventTypes)))
       ORDER BY created_ms DESC, seq DESC LIMIT @limit`,
    ),
    tally: db.prepare<
      { userId: string; since: number },
      { event_type: EventType; service_name: string; hour: number; count: number }
    >(
      `SELECT event_type, coalesce(json_extract(doc, '$.metadata.service_name'), '') AS service_name,
              created_ms / ${HOUR_MS} AS hour, COUNT(*) AS count
       FROM events WHERE user_id = @userId AND created_ms >= @since
       GROUP BY hour, event_type, service_name
       ORDER BY hour, event_type, service_name`,
    ),
    deleteByUser: db.prepare<[string]>('DELETE FROM events WHERE user_id = ?'),
    deleteByAggregates: db.prepare<[string]>(
      'DELETE FROM events WHERE aggregate_id IN (SELECT value FROM json_each(?))',
    ),
  };

  // One write transaction, so the two deletes count each event once.
  const deleteForUser = db.transaction(
    (userId: string, aggregateIds: readonly string[]) =>
      sql.deleteByUser.run(userId).changes +
      (aggregateIds.length > 0 ? sql.deleteByAggregates.run(JSON.stringify(aggregateIds)).changes : 0),
  );

  return {
    async append(event) {
      const inserted = sql.insert.get({
        event_id: event.event_id,
        aggregate_id: event.aggregate_id,
        event_type: event.event_type,
        stored_at: new Date().toISOString(),
        doc: JSON.stringify(event),
        user_id: event.metadata.user_id ?? null,
        created_ms: eventMillis(event),
      });
      if (inserted) return { ...toStored(inserted), duplicate: false };
      return { ...toStored(sql.get.get(event.event_id)!), duplicate: true };
    },
    async listByAggregate(aggregateId, options = {}) {
      const rows = sql.byAggregate.all({
        aggregateId,
        afterSeq: options.afterSeq ?? 0,
        eventTypes: typeList(options.eventTypes),
        limit: options.limit ?? -1,
      });
      return rows.map(toStored);
    },
    async get(eventId) {
      const found = sql.get.get(eventId);
      return found ? toStored(found) : null;
    },
    async listByUser(userId, options = {}) {
      const rows = sql.byUser.all({
        userId,
        eventTypes: typeList(options.eventTypes),
        limit: options.limit ?? -1,
      });
      return rows.map(toStored);
    },
    async tallyByUser(userId, since) {
      const rows = sql.tally.all({ userId, since: Date.parse(since) });
      return rows.map((row): EventTally => ({ ...row, hour: new Date(row.hour * HOUR_MS).toISOString() }));
    },
    async deleteForUser(userId, aggregateIds) {
      return deleteForUser.immediate(userId, aggregateIds);
    },
  };
}
