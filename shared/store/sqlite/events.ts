import type { DomainEvent, EventType } from '../../events/schemas';
import type { ArchivedEvent, EventFilter, EventStore, EventTally, StoredEvent } from '../ports';
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

const SEARCHED_COLUMNS = [
  'event_id',
  'event_type',
  'aggregate_id',
  'user_id',
  "json_extract(doc, '$.metadata.service_name')",
];

/** The WHERE clause and its parameters for a filter; bounds on time use the indexed event time. */
function whereOf(filter: EventFilter): { where: string; params: Record<string, unknown> } {
  const clauses: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.eventTypes && filter.eventTypes.length > 0) {
    clauses.push('event_type IN (SELECT value FROM json_each(@eventTypes))');
    params.eventTypes = JSON.stringify(filter.eventTypes);
  }
  if (filter.aggregateId !== undefined) {
    clauses.push('aggregate_id = @aggregateId');
    params.aggregateId = filter.aggregateId;
  }
  if (filter.userId !== undefined) {
    clauses.push('user_id = @userId');
    params.userId = filter.userId;
  }
  if (filter.serviceName !== undefined) {
    clauses.push("json_extract(doc, '$.metadata.service_name') = @serviceName");
    params.serviceName = filter.serviceName;
  }
  if (filter.from !== undefined) {
    clauses.push('created_ms >= @fromMs');
    params.fromMs = Date.parse(filter.from);
  }
  if (filter.to !== undefined) {
    clauses.push('created_ms <= @toMs');
    params.toMs = Date.parse(filter.to);
  }
  if (filter.searchText) {
    // instr takes the text literally, where LIKE would read % and _.
    clauses.push(`(${SEARCHED_COLUMNS.map((c) => `instr(lower(${c}), @search) > 0`).join(' OR ')})`);
    params.search = filter.searchText.toLowerCase();
  }
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

interface ArchivedRow extends EventRow {
  deleted_by: string;
  deleted_at: string;
}

const toArchived = (row: ArchivedRow): ArchivedEvent => ({
  ...toStored(row),
  deleted_by: row.deleted_by,
  deleted_at: row.deleted_at,
});

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
    archive: db.prepare<Record<string, unknown>, ArchivedRow>(
      `INSERT OR REPLACE INTO events_archive (event_id, seq, stored_at, doc, deleted_by, deleted_at)
       SELECT event_id, seq, stored_at, doc, @deleted_by, @deleted_at FROM events WHERE event_id = @event_id
       RETURNING seq, stored_at, doc, deleted_by, deleted_at`,
    ),
    deleteOne: db.prepare<[string]>('DELETE FROM events WHERE event_id = ?'),
    getArchived: db.prepare<[string], ArchivedRow>(
      'SELECT seq, stored_at, doc, deleted_by, deleted_at FROM events_archive WHERE event_id = ?',
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

  // Filters combine freely, so the statements of these queries are prepared for each call.
  const query = <T>(text: string, params: Record<string, unknown>, method: 'all' | 'get') =>
    db.prepare(text)[method](params) as T;

  const archive = db.transaction((eventId: string, by: { deleted_by: string; deleted_at: string }) => {
    const archived = sql.archive.get({ event_id: eventId, ...by });
    if (archived) sql.deleteOne.run(eventId);
    return archived;
  });

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
    async browse(filter, paging) {
      const { where, params } = whereOf(filter);
      const { total } = query<{ total: number }>(
        `SELECT COUNT(*) AS total FROM events ${where}`,
        params,
        'get',
      );
      const rows = query<EventRow[]>(
        `SELECT seq, stored_at, doc FROM events ${where}
         ORDER BY created_ms DESC, seq DESC LIMIT @limit OFFSET @skip`,
        { ...params, limit: paging.limit, skip: paging.skip },
        'all',
      );
      return { items: rows.map(toStored), total };
    },
    async select(filter, options) {
      const { where, params } = whereOf(filter);
      const after = `seq > @afterSeq`;
      const rows = query<EventRow[]>(
        `SELECT seq, stored_at, doc FROM events ${where ? `${where} AND ${after}` : `WHERE ${after}`}
         ORDER BY seq LIMIT @limit`,
        { ...params, afterSeq: options.afterSeq ?? 0, limit: options.limit },
        'all',
      );
      return rows.map(toStored);
    },
    async tally(filter) {
      const { where, params } = whereOf(filter);
      const rows = query<
        { event_type: EventType; service_name: string; user_id: string | null; hour: number; count: number }[]
      >(
        `SELECT event_type, coalesce(json_extract(doc, '$.metadata.service_name'), '') AS service_name,
                user_id, created_ms / ${HOUR_MS} AS hour, COUNT(*) AS count
         FROM events ${where ? `${where} AND` : 'WHERE'} created_ms IS NOT NULL
         GROUP BY hour, event_type, service_name, user_id
         ORDER BY hour, event_type, service_name, user_id`,
        params,
        'all',
      );
      return rows.map((row): EventTally => ({ ...row, hour: new Date(row.hour * HOUR_MS).toISOString() }));
    },
    async archive(eventId, by) {
      const archived = archive.immediate(eventId, by);
      return archived ? toArchived(archived) : null;
    },
    async getArchived(eventId) {
      const found = sql.getArchived.get(eventId);
      return found ? toArchived(found) : null;
    },
    async deleteForUser(userId, aggregateIds) {
      return deleteForUser.immediate(userId, aggregateIds);
    },
  };
}
