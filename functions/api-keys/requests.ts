/** What the API key endpoints accept. */
import * as v from 'valibot';
import { API_KEY_SCOPES } from '../../shared/domain/api-key';
import { UuidSchema } from '../../shared/http/params';

/** Keys one user may hold at once. */
export const MAX_KEYS_PER_USER = 20;

export const CreateApiKeySchema = v.object({
  name: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, 'name must not be empty'),
    v.maxLength(100, 'name must be at most 100 characters'),
  ),
  scopes: v.pipe(
    v.array(v.picklist(API_KEY_SCOPES, `must be one of ${API_KEY_SCOPES.join(', ')}`)),
    v.minLength(1, 'scopes must name at least one scope'),
  ),
  /** Days until the key stops working; absent or null for a key that does not expire. */
  expires_in_days: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3650))),
});

export const KeyIdParam = v.object({ key_id: UuidSchema });
