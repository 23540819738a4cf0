/** The admin execution operations as the OpenAPI document publishes them. */
import * as v from 'valibot';
import { ERROR_TYPES, EXECUTION_STATUSES, QUEUE_PRIORITIES } from '../../shared/domain/execution';
import type { OperationGroup } from '../../shared/http/openapi/operation';
import { UuidSchema } from '../../shared/http/params';
import { AdminListQuerySchema, PriorityUpdateSchema } from './requests';

const count = v.pipe(v.number(), v.integer());
const AdminExecutionResponse = v.object({
  execution_id: v.string(),
  script: v.string(),
  status: v.picklist(EXECUTION_STATUSES),
  lang: v.string(),
  lang_version: v.string(),
  stdout: v.nullable(v.string()),
  stderr: v.nullable(v.string()),
  exit_code: v.nullable(count),
  error_type: v.nullable(v.picklist(ERROR_TYPES)),
  priority: v.picklist(QUEUE_PRIORITIES),
  user_id: v.nullable(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
});
const AdminExecutionListResponse = v.object({
  executions: v.array(AdminExecutionResponse),
  total: count,
  limit: count,
  skip: count,
  has_more: v.boolean(),
});
const QueueStatusResponse = v.object({
  queue_depth: count,
  active_count: count,
  max_concurrent: count,
  by_priority: v.record(v.string(), count),
});

const tags = ['admin-executions'];

export const adminExecutionsOperations: OperationGroup = {
  schemas: {
    AdminExecutionResponse,
    AdminExecutionListResponse,
    QueueStatusResponse,
    PriorityUpdateRequest: PriorityUpdateSchema,
  },
  operations: [
    {
      method: 'get',
      path: '/api/v1/admin/executions/',
      tags,
      summary: "Every user's executions, newest first",
      access: 'admin',
      query: AdminListQuerySchema,
      responses: { 200: { description: 'A page of executions', schema: AdminExecutionListResponse } },
    },
    {
      method: 'get',
      path: '/api/v1/admin/executions/queue',
      tags,
      summary: 'The queue: waiting executions by priority, running ones and the limit',
      access: 'admin',
      responses: { 200: { description: 'The queue', schema: QueueStatusResponse } },
    },
    {
      method: 'put',
      path: '/api/v1/admin/executions/{execution_id}/priority',
      tags,
      summary: "Change a queued execution's priority",
      access: 'admin',
      params: v.object({ execution_id: UuidSchema }),
      body: { json: PriorityUpdateSchema },
      responses: {
        200: { description: 'The execution', schema: AdminExecutionResponse },
        404: { description: 'No such execution' },
        409: { description: 'The execution is no longer queued' },
      },
    },
  ],
};
