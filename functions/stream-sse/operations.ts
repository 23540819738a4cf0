/** The two event streams as the OpenAPI document publishes them: each data line is one JSON object. */
import { NotificationResponseSchema } from '../../shared/domain/notification';
import { EVENT_STREAM, type OperationGroup } from '../../shared/http/openapi/operation';
import { ExecutionIdParam } from '../executions/requests';
import { ExecutionFrameSchema } from './frames';
import { CursorSchema } from './requests';

const tags = ['sse'];

export const streamSseOperations: OperationGroup = {
  schemas: {
    SSEExecutionEventSchema: ExecutionFrameSchema,
    NotificationResponse: NotificationResponseSchema,
  },
  operations: [
    {
      method: 'get',
      path: '/api/v1/events/executions/{execution_id}',
      tags,
      summary: "An execution's status and output as it runs; resumes after Last-Event-ID",
      access: 'user',
      params: ExecutionIdParam,
      headers: CursorSchema,
      responses: {
        200: { description: 'The stream', schema: ExecutionFrameSchema, mediaType: EVENT_STREAM },
        403: { description: 'Not the owner of this execution' },
        404: { description: 'No such execution' },
      },
    },
    {
      method: 'get',
      path: '/api/v1/events/notifications/stream',
      tags,
      summary: 'Your notifications as they arrive',
      access: 'user',
      responses: {
        200: { description: 'The stream', schema: NotificationResponseSchema, mediaType: EVENT_STREAM },
      },
    },
  ],
};
