/** The submit operation as the OpenAPI document publishes it. */
import { ExecutionRequestSchema } from '../../shared/executions/submission';
import type { OperationGroup } from '../../shared/http/openapi/operation';
import { ExecutionResponseSchema } from '../executions/operations';
import { HeadersSchema } from './requests';

export const submitOperations: OperationGroup = {
  schemas: { ExecutionRequest: ExecutionRequestSchema },
  operations: [
    {
      method: 'post',
      path: '/api/v1/execute',
      tags: ['execution'],
      summary: 'Run a script; a repeated Idempotency-Key answers the first submission',
      access: 'user',
      headers: HeadersSchema,
      body: { json: ExecutionRequestSchema },
      responses: {
        200: { description: 'Queued', schema: ExecutionResponseSchema },
        409: { description: 'The Idempotency-Key was used for another script' },
        429: { description: 'Too many submissions; retry later' },
      },
    },
  ],
};
