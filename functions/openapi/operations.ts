/** The document describes itself, so a client can find it from the document too. */
import * as v from 'valibot';
import type { OperationGroup } from '../../shared/http/openapi/operation';

export const OPENAPI_PATH = '/api/v1/openapi.json';

export const openapiOperations: OperationGroup = {
  schemas: {},
  operations: [
    {
      method: 'get',
      path: OPENAPI_PATH,
      tags: ['meta'],
      summary: 'This OpenAPI 3.1 document',
      access: 'public',
      responses: { 200: { description: 'The document', schema: v.record(v.string(), v.unknown()) } },
    },
  ],
};
