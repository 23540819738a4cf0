/** What the admin execution endpoints accept. */
import * as v from 'valibot';
import { EXECUTION_STATUSES, QUEUE_PRIORITIES } from '../../shared/domain/execution';
import { queryInt } from '../../shared/http/params';

const Priority = v.picklist(QUEUE_PRIORITIES, `must be one of ${QUEUE_PRIORITIES.join(', ')}`);

export const AdminListQuerySchema = v.object({
  status: v.optional(v.picklist(EXECUTION_STATUSES, `must be one of ${EXECUTION_STATUSES.join(', ')}`)),
  priority: v.optional(Priority),
  user_id: v.optional(v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters'))),
  limit: queryInt(1, 200, 50),
  skip: queryInt(0, 1_000_000, 0),
});

export const PriorityUpdateSchema = v.object({ priority: Priority });
