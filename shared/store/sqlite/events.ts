import type { DomainEvent } from '../../events/schemas';
import type { EventStore, StoredEvent } from '../ports';
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

export function sqliteEventStore(db: SqliteDatabase): EventStore {
  const sql = {
    insert: db.prepare<Record<string, unknown>, EventRow>(
      `INSERT INTO events (event_id, aggregate_id, event_type, stored_at, doc)
       VALUES (@event_id, @aggregate_id, @event_type, @stored_at, @doc)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING seq, stored_at, doc`,
    ),
    get: db.prepare<[string], EventRow>('SELECT seq, stored_at, doc FROM events WHERE event_id = ?'),
    // LIMIT -1 means no limit; absent event types are bound as NULL and match every type.
    byAggregate: db.prepare<Record<string, unknown>, EventRow>(
      `SELECT seq, stored_at, doc FROM events
       WHERE aggregate_id = @aggregateId AND seq > @afterSeq
         AND (@eventTypes IS NULL OR event_type IN (SELECT value FROM json_each(@eventTypes)))
       ORDER BY seq LIMIT @limit`,
    ),
  };

  return {
    async append(event) {
      const inserted = sql.insert.get({
        event_id: event.event_id,
        aggregate_id: event.aggregate_id,
        event_type: event.event_type,
        stored_at: new Date().toISOString(),
        doc: JSON.stringify(event),
      });
      if (inserted) return { ...toStored(inserted), duplicate: false };
      return { ...toStored(sql.get.get(event.event_id)!), duplicate: true };
    },
    async listByAggregate(aggregateId, options = {}) {
      const rows = sql.byAggregate.all({
        aggregateId,
        afterSeq: options.afterSeq ?? 0,
        eventTypes:
          options.eventTypes && options.eventTypes.length > 0 ? JSON.stringify(options.eventTypes) : null,
        limit: options.limit ?? -1,
      });
      return rows.map(toStored);
    },
    async get(eventId) {
      const found = sql.get.get(eventId);
      return found ? toStored(found) : null;
    },
  };
}
