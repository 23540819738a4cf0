/** The user's API keys under /user/api-keys. */
import { request } from './api';

export const API_KEY_SCOPES = ['executions:read', 'executions:write'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKey {
  key_id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface CreatedApiKey extends ApiKey {
  /** The secret, returned this once. */
  key: string;
}

export const listApiKeys = () => request<{ api_keys: ApiKey[] }>('/user/api-keys');

export const createApiKey = (key: { name: string; scopes: ApiKeyScope[]; expires_in_days: number | null }) =>
  request<CreatedApiKey>('/user/api-keys', { method: 'POST', json: key });

export const revokeApiKey = (keyId: string) =>
  request<void>(`/user/api-keys/${encodeURIComponent(keyId)}`, { method: 'DELETE' });
