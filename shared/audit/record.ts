/** Writing to the audit log from an admin handler, once its change is done. */
import type { AuditChange, AuditTargetType } from '../domain/audit';
import type { Principal } from '../domain/user';
import type { Platform } from '../platform/platform';

export interface AuditRecord {
  actor: Principal;
  action: `${AuditTargetType}.${string}`;
  target: { type: AuditTargetType; id: string };
  changes?: AuditChange[];
}

/**
 * Appends the entry. The change it describes has happened by now, so a store that fails here must not
 * turn the admin's success into an error: the failure is logged at error level with the whole entry.
 */
export async function recordAudit(platform: Platform, record: AuditRecord): Promise<void> {
  const entry = {
    audit_id: crypto.randomUUID(),
    at: platform.now().toISOString(),
    actor_id: record.actor.user_id,
    actor_username: record.actor.username,
    action: record.action,
    target_type: record.target.type,
    target_id: record.target.id,
    changes: record.changes ?? [],
  };
  try {
    await platform.store.auditLog.append(entry);
  } catch (error) {
    platform.log.error('audit entry not recorded', { entry, error });
  }
}
