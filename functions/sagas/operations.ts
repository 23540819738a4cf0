/** The saga operations as the OpenAPI document publishes them. */
import * as v from 'valibot';
import { SagaStatusSchema } from '../../shared/domain/saga';
import type { OperationGroup } from '../../shared/http/openapi/operation';
import { ExecutionSagaQuerySchema, SagaListQuerySchema } from './requests';

const count = v.pipe(v.number(), v.integer());
const SagaListResponse = v.object({
  sagas: v.array(SagaStatusSchema),
  total: count,
  skip: count,
  limit: count,
  has_more: v.boolean(),
});
const SagaCancellationResponse = v.object({ success: v.boolean(), message: v.string(), saga_id: v.string() });

const tags = ['sagas'];
const notYours = { description: 'The saga of someone else’s execution' };
const notFound = { description: 'No such saga' };

export const sagasOperations: OperationGroup = {
  schemas: { SagaStatusResponse: SagaStatusSchema, SagaListResponse, SagaCancellationResponse },
  operations: [
    {
      method: 'get',
      path: '/api/v1/sagas/',
      tags,
      summary: 'Sagas of your executions (an admin: of all), newest first',
      access: 'user',
      query: SagaListQuerySchema,
      responses: { 200: { description: 'A page of sagas', schema: SagaListResponse } },
    },
    {
      method: 'get',
      path: '/api/v1/sagas/{saga_id}',
      tags,
      summary: 'One saga with its steps and compensations',
      access: 'user',
      responses: { 200: { description: 'The saga', schema: SagaStatusSchema }, 403: notYours, 404: notFound },
    },
    {
      method: 'get',
      path: '/api/v1/sagas/execution/{execution_id}',
      tags,
      summary: 'The saga of an execution',
      access: 'user',
      query: ExecutionSagaQuerySchema,
      responses: { 200: { description: 'Its saga', schema: SagaListResponse }, 403: notYours, 404: notFound },
    },
    {
      method: 'post',
      path: '/api/v1/sagas/{saga_id}/cancel',
      tags,
      summary: 'Cancel a running saga, stopping its run',
      access: 'user',
      responses: {
        200: { description: 'Cancellation requested', schema: SagaCancellationResponse },
        400: { description: 'The saga has ended' },
        403: notYours,
        404: notFound,
      },
    },
  ],
};
