/** What the audit log endpoint accepts. */
import * as v from 'valibot';
import { AUDIT_TARGET_TYPES } from '../../shared/domain/audit';
import { DateTimeSchema, queryInt } from '../../shared/http/params';

const Text = v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters'));

export const AuditQuerySchema = v.object({
  actor_id: v.optional(Text),
  action: v.optional(Text),
  target_type: v.optional(v.picklist(AUDIT_TARGET_TYPES, `must be one of ${AUDIT_TARGET_TYPES.join(', ')}`)),
  target_id: v.optional(Text),
  start_time: v.optional(DateTimeSchema),
  end_time: v.optional(DateTimeSchema),
  limit: queryInt(1, 200, 50),
  offset: queryInt(0, 1_000_000, 0),
});
