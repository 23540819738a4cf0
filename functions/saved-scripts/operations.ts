/** The saved-scripts operations as the OpenAPI document publishes them. */
import * as v from 'valibot';
import { SavedScriptResponseSchema } from '../../shared/domain/saved-script';
import type { OperationGroup } from '../../shared/http/openapi/operation';
import { CreateRequestSchema, ListQuerySchema, UpdateRequestSchema } from './requests';

const count = v.pipe(v.number(), v.integer());
const SavedScriptListResponse = v.object({
  scripts: v.array(SavedScriptResponseSchema),
  total: count,
  limit: count,
  offset: count,
});

const tags = ['scripts'];
const notFound = { description: 'No such script of yours' };

export const savedScriptsOperations: OperationGroup = {
  schemas: {
    SavedScriptCreateRequest: CreateRequestSchema,
    SavedScriptUpdate: UpdateRequestSchema,
    SavedScriptResponse: SavedScriptResponseSchema,
    SavedScriptListResponse,
  },
  operations: [
    {
      method: 'get',
      path: '/api/v1/scripts',
      tags,
      summary: 'Your saved scripts',
      access: 'user',
      query: ListQuerySchema,
      responses: { 200: { description: 'A page of scripts', schema: SavedScriptListResponse } },
    },
    {
      method: 'post',
      path: '/api/v1/scripts',
      tags,
      summary: 'Save a script',
      access: 'user',
      body: { json: CreateRequestSchema },
      responses: { 200: { description: 'The saved script', schema: SavedScriptResponseSchema } },
    },
    {
      method: 'get',
      path: '/api/v1/scripts/{script_id}',
      tags,
      summary: 'One saved script',
      access: 'user',
      responses: { 200: { description: 'The script', schema: SavedScriptResponseSchema }, 404: notFound },
    },
    {
      method: 'put',
      path: '/api/v1/scripts/{script_id}',
      tags,
      summary: 'Change a saved script',
      access: 'user',
      body: { json: UpdateRequestSchema },
      responses: {
        200: { description: 'The script as changed', schema: SavedScriptResponseSchema },
        404: notFound,
      },
    },
    {
      method: 'delete',
      path: '/api/v1/scripts/{script_id}',
      tags,
      summary: 'Delete a saved script',
      access: 'user',
      responses: { 204: { description: 'Deleted' }, 404: notFound },
    },
  ],
};
