/** The API key operations as the OpenAPI document publishes them (beyond the reference API). */
import * as v from 'valibot';
import { ApiKeyResponseSchema } from '../../shared/domain/api-key';
import type { OperationGroup } from '../../shared/http/openapi/operation';
import { CreateApiKeySchema, KeyIdParam } from './requests';

const ApiKeyListResponse = v.object({ api_keys: v.array(ApiKeyResponseSchema) });
const CreatedApiKey = v.object({
  ...ApiKeyResponseSchema.entries,
  /** The secret, shown this once. */
  key: v.string(),
});

const tags = ['api-keys'];

export const apiKeysOperations: OperationGroup = {
  schemas: {
    ApiKeyCreate: CreateApiKeySchema,
    ApiKey: ApiKeyResponseSchema,
    ApiKeyListResponse,
    CreatedApiKey,
  },
  operations: [
    {
      method: 'get',
      path: '/api/v1/user/api-keys',
      tags,
      summary: 'Your API keys, newest first (never their secrets)',
      access: 'user',
      responses: { 200: { description: 'The keys', schema: ApiKeyListResponse } },
    },
    {
      method: 'post',
      path: '/api/v1/user/api-keys',
      tags,
      summary: 'Create an API key; its secret is in this answer only',
      access: 'user',
      body: { json: CreateApiKeySchema },
      responses: {
        201: { description: 'The key with its secret', schema: CreatedApiKey },
        409: { description: 'You hold the most keys one account may' },
      },
    },
    {
      method: 'delete',
      path: '/api/v1/user/api-keys/{key_id}',
      tags,
      summary: 'Revoke one of your API keys; it stops working at once',
      access: 'user',
      params: KeyIdParam,
      responses: { 204: { description: 'Revoked' }, 404: { description: 'You have no such key' } },
    },
  ],
};
