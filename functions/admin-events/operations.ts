/** The admin event operations as the OpenAPI document publishes them. */
import * as v from 'valibot';
import { EventStatisticsSchema } from '../../shared/domain/event-statistics';
import { DomainEventSchema, EVENT_TYPES } from '../../shared/events/schemas';
import type { OperationGroup } from '../../shared/http/openapi/operation';
import {
  BrowseRequestSchema,
  DeadLetterListQuerySchema,
  EventFilterSchema,
  ExportParamsSchema,
  ExportQuerySchema,
  StatsQuerySchema,
} from './requests';

const count = v.pipe(v.number(), v.integer());

const EventBrowseResponse = v.object({
  events: v.array(DomainEventSchema),
  total: count,
  skip: count,
  limit: count,
});

const EventSummary = v.object({
  event_id: v.string(),
  event_type: v.picklist(EVENT_TYPES),
  timestamp: v.string(),
  aggregate_id: v.nullable(v.string()),
});

const EventDetailResponse = v.object({
  event: DomainEventSchema,
  related_events: v.array(EventSummary),
  timeline: v.array(EventSummary),
});

const EventDeleteResponse = v.object({ message: v.string(), event_id: v.string() });

const DeadLetter = v.object({
  dead_letter_id: v.string(),
  subscriber: v.string(),
  event: v.nullable(DomainEventSchema),
  raw: v.nullable(v.string()),
  event_type: v.string(),
  event_id: v.string(),
  error: v.string(),
  attempts: count,
  created_at: v.string(),
});
const DeadLetterListResponse = v.object({
  dead_letters: v.array(DeadLetter),
  total: count,
  limit: count,
  offset: count,
});
const DeadLetterRetryResponse = v.object({
  message: v.string(),
  dead_letter_id: v.string(),
  event_id: v.string(),
});
const noLetter = { description: 'No such dead letter' };

const tags = ['admin-events'];
const notFound = { description: 'No such event' };

export const adminEventsOperations: OperationGroup = {
  schemas: {
    EventFilter: EventFilterSchema,
    EventBrowseRequest: BrowseRequestSchema,
    EventBrowseResponse,
    EventStatsResponse: EventStatisticsSchema,
    EventSummary,
    EventDetailResponse,
    EventDeleteResponse,
    DeadLetter,
    DeadLetterListResponse,
  },
  operations: [
    {
      method: 'post',
      path: '/api/v1/admin/events/browse',
      tags,
      summary: 'Browse events newest first, with filters and text search',
      access: 'admin',
      body: { json: BrowseRequestSchema },
      responses: { 200: { description: 'A page of events', schema: EventBrowseResponse } },
    },
    {
      method: 'get',
      path: '/api/v1/admin/events/stats',
      tags,
      summary: 'Statistics of the events of the last hours',
      access: 'admin',
      query: StatsQuerySchema,
      responses: { 200: { description: 'The statistics', schema: EventStatisticsSchema } },
    },
    {
      method: 'get',
      path: '/api/v1/admin/events/export/{export_format}',
      tags,
      summary: 'Export matching events as CSV or JSON (streamed, at most 50,000)',
      access: 'admin',
      params: ExportParamsSchema,
      query: ExportQuerySchema,
      responses: {
        200: {
          description: 'The file; X-Total-Count and X-Export-Truncated tell whether it holds all',
          mediaType: 'text/csv',
        },
      },
    },
    {
      method: 'get',
      path: '/api/v1/admin/events/{event_id}',
      tags,
      summary: 'One event with the other events of its aggregate',
      access: 'admin',
      responses: { 200: { description: 'The event', schema: EventDetailResponse }, 404: notFound },
    },
    {
      method: 'delete',
      path: '/api/v1/admin/events/{event_id}',
      tags,
      summary: 'Delete an event, keeping it in the archive',
      access: 'admin',
      responses: { 200: { description: 'Deleted', schema: EventDeleteResponse }, 404: notFound },
    },
    {
      method: 'get',
      path: '/api/v1/admin/dead-letters',
      tags,
      summary: 'Events a function could not take after every retry, newest first',
      access: 'admin',
      query: DeadLetterListQuerySchema,
      responses: { 200: { description: 'A page of dead letters', schema: DeadLetterListResponse } },
    },
    {
      method: 'get',
      path: '/api/v1/admin/dead-letters/{dead_letter_id}',
      tags,
      summary: 'One dead letter with its event and why it failed',
      access: 'admin',
      responses: { 200: { description: 'The dead letter', schema: DeadLetter }, 404: noLetter },
    },
    {
      method: 'post',
      path: '/api/v1/admin/dead-letters/{dead_letter_id}/retry',
      tags,
      summary: 'Send the event again; consumers that took it already answer it as a duplicate',
      access: 'admin',
      responses: {
        200: { description: 'Sent again', schema: DeadLetterRetryResponse },
        404: noLetter,
        409: { description: 'It holds no readable event' },
      },
    },
    {
      method: 'delete',
      path: '/api/v1/admin/dead-letters/{dead_letter_id}',
      tags,
      summary: 'Discard a dead letter',
      access: 'admin',
      responses: { 204: { description: 'Discarded' }, 404: noLetter },
    },
  ],
};
