/** What the admin event endpoints accept, each field checked by valibot so a 422 names the one at fault. */
import * as v from 'valibot';
import { EVENT_TYPES } from '../../shared/events/schemas';
import { HttpError } from '../../shared/http/errors';
import { DateTimeSchema, queryInt } from '../../shared/http/params';
import type { EventFilter } from '../../shared/store/ports';

/** Most events one export holds; the reference's bound. */
export const MAX_EXPORT_EVENTS = 50_000;
export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const EventTypes = v.array(v.picklist(EVENT_TYPES, `must be one of ${EVENT_TYPES.join(', ')}`));
const Text = (max: number) => v.pipe(v.string(), v.maxLength(max, `must be at most ${max} characters`));
const nullish = <T extends v.GenericSchema>(schema: T) => v.nullish(schema);

export const EventFilterSchema = v.object({
  event_types: nullish(EventTypes),
  aggregate_id: nullish(Text(200)),
  user_id: nullish(Text(200)),
  start_time: nullish(DateTimeSchema),
  end_time: nullish(DateTimeSchema),
  service_name: nullish(Text(100)),
  search_text: nullish(Text(200)),
});

export const BrowseRequestSchema = v.object({
  filters: EventFilterSchema,
  skip: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000)), 0),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(500)), 50),
});

export const StatsQuerySchema = v.object({ hours: queryInt(1, 168, 24) });

export const ExportParamsSchema = v.object({
  export_format: v.picklist(EXPORT_FORMATS, `must be one of ${EXPORT_FORMATS.join(', ')}`),
});

export const ExportQuerySchema = v.object({
  event_types: v.optional(EventTypes),
  aggregate_id: v.optional(Text(200)),
  user_id: v.optional(Text(200)),
  service_name: v.optional(Text(100)),
  start_time: v.optional(DateTimeSchema),
  end_time: v.optional(DateTimeSchema),
  limit: queryInt(1, MAX_EXPORT_EVENTS, 10_000),
});

/** The store's filter for the request's, refusing a window that ends before it starts. */
export function toEventFilter(filters: {
  event_types?: readonly (typeof EVENT_TYPES)[number][] | null;
  aggregate_id?: string | null;
  user_id?: string | null;
  service_name?: string | null;
  start_time?: string | null;
  end_time?: string | null;
  search_text?: string | null;
}): EventFilter {
  // Both are canonical UTC instants, so text order is time order.
  if (filters.start_time && filters.end_time && filters.start_time > filters.end_time)
    throw new HttpError(422, 'start_time must not be after end_time', 'ValidationError');
  return {
    eventTypes: filters.event_types ?? undefined,
    aggregateId: filters.aggregate_id ?? undefined,
    userId: filters.user_id ?? undefined,
    serviceName: filters.service_name ?? undefined,
    from: filters.start_time ?? undefined,
    to: filters.end_time ?? undefined,
    searchText: filters.search_text || undefined,
  };
}

export const DeadLetterListQuerySchema = v.object({
  limit: queryInt(1, 200, 50),
  offset: queryInt(0, 1_000_000, 0),
});
