/**
 * API keys: credentials integrations send as `Authorization: Bearer i8c_…` to call the execution
 * endpoints on a user's behalf. The secret is shown once; the store keeps only its SHA-256 (a random
 * 256-bit secret needs no slow hash: there is nothing to guess), found by that hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as v from 'valibot';

export const API_KEY_SCOPES = ['executions:read', 'executions:write'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Marks the secret as ours, so secret scanners and people can tell what leaked. */
export const API_KEY_PREFIX = 'i8c_';
/** Characters of the secret kept in the clear to tell keys apart in a list. */
const SHOWN_CHARS = API_KEY_PREFIX.length + 6;

export interface ApiKeyRecord {
  key_id: string;
  user_id: string;
  name: string;
  /** The secret's first characters, for recognising it. */
  prefix: string;
  key_hash: string;
  scopes: ApiKeyScope[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export const ApiKeyResponseSchema = v.object({
  key_id: v.string(),
  name: v.string(),
  prefix: v.string(),
  scopes: v.array(v.picklist(API_KEY_SCOPES)),
  created_at: v.string(),
  expires_at: v.nullable(v.string()),
  last_used_at: v.nullable(v.string()),
});
export type ApiKeyResponse = v.InferOutput<typeof ApiKeyResponseSchema>;

export const toApiKeyResponse = (key: ApiKeyRecord): ApiKeyResponse => ({
  key_id: key.key_id,
  name: key.name,
  prefix: key.prefix,
  scopes: key.scopes,
  created_at: key.created_at,
  expires_at: key.expires_at,
  last_used_at: key.last_used_at,
});

export const hashApiKey = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export const looksLikeApiKey = (credential: string): boolean => credential.startsWith(API_KEY_PREFIX);

/** A new secret and the record that stores it. */
export function newApiKey(fields: Omit<ApiKeyRecord, 'key_id' | 'prefix' | 'key_hash' | 'last_used_at'>): {
  secret: string;
  record: ApiKeyRecord;
} {
  const secret = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return {
    secret,
    record: {
      key_id: crypto.randomUUID(),
      prefix: secret.slice(0, SHOWN_CHARS),
      key_hash: hashApiKey(secret),
      last_used_at: null,
      ...fields,
    },
  };
}
