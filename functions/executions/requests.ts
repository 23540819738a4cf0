/** What the executions endpoints accept, each field checked by valibot so a 422 names the one at fault. */
import * as v from 'valibot';
import { EXECUTION_STATUSES } from '../../shared/domain/execution';
import { EVENT_TYPES } from '../../shared/events/schemas';
import { DateTimeSchema, queryInt, UuidSchema } from '../../shared/http/params';

export const ExecutionIdParam = v.object({ execution_id: UuidSchema });

export const CancelSchema = v.object({
  reason: v.optional(
    v.pipe(v.string(), v.maxLength(500, 'reason must be at most 500 characters')),
    'User requested cancellation',
  ),
});

export const ListQuerySchema = v.object({
  status: v.optional(v.picklist(EXECUTION_STATUSES, `must be one of ${EXECUTION_STATUSES.join(', ')}`)),
  lang: v.optional(v.pipe(v.string(), v.maxLength(32))),
  start_time: v.optional(DateTimeSchema),
  end_time: v.optional(DateTimeSchema),
  limit: queryInt(1, 200, 50),
  skip: queryInt(0, 1_000_000, 0),
});

export const EventsQuerySchema = v.object({
  event_types: v.optional(v.array(v.picklist(EVENT_TYPES, `must be one of ${EVENT_TYPES.join(', ')}`))),
  limit: queryInt(1, 1000, 100),
});
