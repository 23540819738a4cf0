/**
 * admin-events: the administrators' view of the event store — browse with filters and text search,
 * statistics of a recent window, export as CSV or JSON (streamed, at most 50,000 events), one event
 * with its neighbours, and delete, which moves the event to an archive instead of losing it.
 * Also the dead letters (./dead-letters.ts). Admins only: 401 signed out, 403 for anyone else.
 */
import { stream } from 'hono/streaming';
import { recordAudit } from '../../shared/audit/record';
import { changedFields } from '../../shared/domain/audit';
import { statisticsOfLastHours } from '../../shared/domain/event-statistics';
import type { DomainEvent } from '../../shared/events/schemas';
import { requireAdmin } from '../../shared/http/auth';
import { notFound, readJson, validate } from '../../shared/http/errors';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import type { EventFilter, EventStore } from '../../shared/store/ports';
import { addDeadLetterRoutes } from './dead-letters';
import { type ExportFormat, exportChunks } from './export';
import {
  BrowseRequestSchema,
  ExportParamsSchema,
  ExportQuerySchema,
  StatsQuerySchema,
  toEventFilter,
} from './requests';

export const BASE = '/api/v1/admin/events';

/** Longer than any id this platform makes; anything longer cannot name an event. */
const MAX_ID_CHARS = 200;
/** Neighbours shown with an event: others of its aggregate, and the aggregate's first events. */
const RELATED_EVENTS = 10;
const TIMELINE_EVENTS = 5;

const eventNotFound = () => notFound('Event not found');

export const eventSummary = (event: DomainEvent) => ({
  event_id: event.event_id,
  event_type: event.event_type,
  timestamp: event.timestamp,
  aggregate_id: event.aggregate_id,
});

async function eventById(events: EventStore, id: string) {
  const stored = id.length <= MAX_ID_CHARS ? await events.get(id) : null;
  if (!stored) throw eventNotFound();
  return stored;
}

export function createAdminEventsApp(platform: Platform) {
  const app = createFunctionApp(platform, 'admin-events');
  const { events } = platform.store;

  app.post(`${BASE}/browse`, async (c) => {
    requireAdmin(c);
    const request = validate(BrowseRequestSchema, await readJson(c), 'body');
    const page = await events.browse(toEventFilter(request.filters), {
      skip: request.skip,
      limit: request.limit,
    });
    return c.json({
      events: page.items.map((stored) => stored.event),
      total: page.total,
      skip: request.skip,
      limit: request.limit,
    });
  });

  app.get(`${BASE}/stats`, async (c) => {
    requireAdmin(c);
    const { hours } = validate(StatsQuerySchema, c.req.query(), 'query');
    return c.json(await statisticsOfLastHours(platform, hours));
  });

  app.get(`${BASE}/export/:export_format`, async (c) => {
    requireAdmin(c);
    const { export_format: format } = validate(ExportParamsSchema, c.req.param(), 'path');
    const query = validate(
      ExportQuerySchema,
      { ...c.req.query(), event_types: c.req.queries('event_types') },
      'query',
    );
    const filter: EventFilter = toEventFilter(query);
    // The count comes first so the headers can say whether the file holds every matching event.
    const { total } = await events.browse(filter, { skip: 0, limit: 0 });
    const exportedAt = platform.now().toISOString();
    const stamp = exportedAt.replace(/[-:]/g, '').replace(/\..*$/, '');
    c.header('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json');
    c.header('Content-Disposition', `attachment; filename="events_export_${stamp}.${format}"`);
    c.header('X-Total-Count', String(total));
    c.header('X-Export-Truncated', String(total > query.limit));
    const header = { exported_at: exportedAt, filters: query, limit: query.limit, total_matching: total };
    return stream(c, async (out) => {
      for await (const chunk of exportChunks(events, filter, format as ExportFormat, query.limit, header))
        await out.write(chunk);
    });
  });

  app.get(`${BASE}/:event_id`, async (c) => {
    requireAdmin(c);
    const { event } = await eventById(events, c.req.param('event_id'));
    const ofAggregate = event.aggregate_id
      ? await events.listByAggregate(event.aggregate_id, { limit: RELATED_EVENTS + 1 })
      : [];
    return c.json({
      event,
      related_events: ofAggregate
        .filter((stored) => stored.event.event_id !== event.event_id)
        .slice(0, RELATED_EVENTS)
        .map((stored) => eventSummary(stored.event)),
      timeline: ofAggregate.slice(0, TIMELINE_EVENTS).map((stored) => eventSummary(stored.event)),
    });
  });

  app.delete(`${BASE}/:event_id`, async (c) => {
    const admin = requireAdmin(c);
    const id = c.req.param('event_id');
    const archived =
      id.length <= MAX_ID_CHARS
        ? await events.archive(id, { deleted_by: admin.username, deleted_at: platform.now().toISOString() })
        : null;
    if (!archived) throw eventNotFound();
    await recordAudit(platform, {
      actor: admin,
      action: 'event.delete',
      target: { type: 'event', id },
      changes: changedFields(null, {
        event_type: archived.event.event_type,
        aggregate_id: archived.event.aggregate_id,
      }),
    });
    return c.json({ message: 'Event deleted and archived', event_id: id });
  });

  addDeadLetterRoutes(app, platform);
  return app;
}
