/**
 * The audit log: who changed what in the administration, when, and which fields went from what to
 * what. Secrets (passwords, their hashes) are never written: their change is recorded as redacted.
 */
import * as v from 'valibot';

export const AUDIT_TARGET_TYPES = [
  'user',
  'execution',
  'event',
  'dead_letter',
  'settings',
  'rate_limits',
  'replay',
  'saga',
] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

const JsonValue = v.unknown();

export const AuditChangeSchema = v.object({ field: v.string(), old: JsonValue, new: JsonValue });
export type AuditChange = v.InferOutput<typeof AuditChangeSchema>;

export const AuditEntrySchema = v.object({
  audit_id: v.string(),
  at: v.string(),
  actor_id: v.string(),
  actor_username: v.string(),
  /** What was done, as `<target type>.<verb>` (`user.update`, `event.delete`). */
  action: v.string(),
  target_type: v.picklist(AUDIT_TARGET_TYPES),
  target_id: v.string(),
  changes: v.array(AuditChangeSchema),
});
export type AuditEntry = v.InferOutput<typeof AuditEntrySchema>;

/** Shown instead of a secret's value. */
export const REDACTED = '[redacted]';

/**
 * The fields of `after` whose value differs from `before`, each with both values; fields named in
 * `secret` are listed as changed with both values redacted.
 */
export function changedFields<T extends object>(
  before: Partial<T> | null,
  after: Partial<T>,
  secret: readonly (keyof T)[] = [],
): AuditChange[] {
  const changes: AuditChange[] = [];
  for (const [field, value] of Object.entries(after) as [keyof T & string, unknown][]) {
    if (value === undefined) continue;
    const old = before?.[field];
    if (JSON.stringify(old) === JSON.stringify(value)) continue;
    const hidden = secret.includes(field);
    changes.push({ field, old: hidden ? REDACTED : (old ?? null), new: hidden ? REDACTED : value });
  }
  return changes;
}
