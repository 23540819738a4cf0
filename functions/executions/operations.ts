/** The executions operations as the OpenAPI document publishes them. */
import * as v from 'valibot';
import { EXECUTION_STATUSES, ExecutionResultSchema } from '../../shared/domain/execution';
import { DomainEventSchema } from '../../shared/events/schemas';
import type { OperationGroup } from '../../shared/http/openapi/operation';
import { CancelSchema, EventsQuerySchema, ExecutionIdParam, ListQuerySchema } from './requests';

const count = v.pipe(v.number(), v.integer());

/** `ExecutionResponse`: what a submission or retry answers. */
export const ExecutionResponseSchema = v.object({
  execution_id: v.string(),
  status: v.picklist(EXECUTION_STATUSES),
});

const CancelResponse = v.object({
  execution_id: v.string(),
  status: v.picklist(['cancellation_requested', 'already_cancelled']),
  message: v.string(),
  event_id: v.nullable(v.string()),
});

const DeleteResponse = v.object({ message: v.string(), execution_id: v.string() });

const ExecutionListResponse = v.object({
  executions: v.array(ExecutionResultSchema),
  total: count,
  limit: count,
  skip: count,
  has_more: v.boolean(),
});

const ExampleScripts = v.object({ scripts: v.record(v.string(), v.string()) });

const ResourceLimits = v.object({
  cpu_limit: v.string(),
  memory_limit: v.string(),
  cpu_request: v.string(),
  memory_request: v.string(),
  execution_timeout: count,
  supported_runtimes: v.record(v.string(), v.object({ versions: v.array(v.string()), file_ext: v.string() })),
  sandbox: v.string(),
  max_processes: count,
  output_limit_bytes: count,
});

const LivenessResponse = v.object({ status: v.string(), uptime_seconds: count, timestamp: v.string() });

const tags = ['execution'];
const notYours = { description: 'Not the owner of this execution' };
const notFound = { description: 'No such execution' };

export const executionsOperations: OperationGroup = {
  schemas: {
    ExecutionResult: ExecutionResultSchema,
    ExecutionResponse: ExecutionResponseSchema,
    CancelExecutionRequest: CancelSchema,
    CancelResponse,
    DeleteResponse,
    ExecutionListResponse,
    ExampleScripts,
    ResourceLimits,
    LivenessResponse,
    DomainEvent: DomainEventSchema,
  },
  operations: [
    {
      method: 'get',
      path: '/api/v1/executions/{execution_id}/result',
      tags,
      summary: 'An execution: status, output, resource usage',
      access: 'user',
      params: ExecutionIdParam,
      responses: {
        200: { description: 'The execution', schema: ExecutionResultSchema },
        403: notYours,
        404: notFound,
      },
    },
    {
      method: 'post',
      path: '/api/v1/executions/{execution_id}/cancel',
      tags,
      summary: 'Stop a queued or running execution',
      access: 'user',
      params: ExecutionIdParam,
      body: { json: CancelSchema },
      responses: {
        200: { description: 'Cancellation requested', schema: CancelResponse },
        400: { description: 'The execution has already finished' },
        403: notYours,
        404: notFound,
      },
    },
    {
      method: 'post',
      path: '/api/v1/executions/{execution_id}/retry',
      tags,
      summary: 'Run a finished execution again',
      access: 'user',
      params: ExecutionIdParam,
      responses: {
        200: { description: 'The new execution', schema: ExecutionResponseSchema },
        400: { description: 'The execution has not finished' },
        403: notYours,
        404: notFound,
      },
    },
    {
      method: 'get',
      path: '/api/v1/executions/{execution_id}/events',
      tags,
      summary: "An execution's events, oldest first",
      access: 'user',
      params: ExecutionIdParam,
      query: EventsQuerySchema,
      responses: {
        200: { description: 'The events', schema: v.array(DomainEventSchema) },
        403: notYours,
        404: notFound,
      },
    },
    {
      method: 'get',
      path: '/api/v1/user/executions',
      tags,
      summary: 'Your executions, newest first',
      access: 'user',
      query: ListQuerySchema,
      responses: { 200: { description: 'A page of executions', schema: ExecutionListResponse } },
    },
    {
      method: 'get',
      path: '/api/v1/example-scripts',
      tags,
      summary: 'An example script per language the sandbox offers',
      access: 'public',
      responses: { 200: { description: 'Scripts by language', schema: ExampleScripts } },
    },
    {
      method: 'get',
      path: '/api/v1/k8s-limits',
      tags,
      summary: 'The limits every script runs under, and the runtimes on offer',
      access: 'public',
      responses: { 200: { description: 'Limits and runtimes', schema: ResourceLimits } },
    },
    {
      method: 'delete',
      path: '/api/v1/executions/{execution_id}',
      tags,
      summary: 'Delete an execution, stopping it first if it runs',
      access: 'admin',
      params: ExecutionIdParam,
      responses: { 200: { description: 'Deleted', schema: DeleteResponse }, 404: notFound },
    },
    {
      method: 'get',
      path: '/api/v1/health/live',
      tags: ['Health'],
      summary: 'Whether the service is up',
      access: 'public',
      responses: { 200: { description: 'Up', schema: LivenessResponse } },
    },
  ],
};
