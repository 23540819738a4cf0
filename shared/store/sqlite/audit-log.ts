import type { AuditEntry } from '../../domain/audit';
import type { AuditFilter, AuditLogRepository } from '../ports';
import { type SqliteDatabase, toMillis } from './database';

function whereOf(filter: AuditFilter): { where: string; params: Record<string, unknown> } {
  const clauses: string[] = [];
  const params: Record<string, unknown> = {};
  const equal = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    clauses.push(`${column} = @${column}`);
    params[column] = value;
  };
  equal('actor_id', filter.actorId);
  equal('action', filter.action);
  equal('target_type', filter.targetType);
  equal('target_id', filter.targetId);
  if (filter.from !== undefined) {
    clauses.push('at_ms >= @from_ms');
    params.from_ms = toMillis(filter.from);
  }
  if (filter.to !== undefined) {
    clauses.push('at_ms <= @to_ms');
    params.to_ms = toMillis(filter.to);
  }
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export function sqliteAuditLogRepository(db: SqliteDatabase): AuditLogRepository {
  const insert = db.prepare(
    `INSERT INTO audit_log (audit_id, at_ms, actor_id, action, target_type, target_id, doc)
     VALUES (@audit_id, @at_ms, @actor_id, @action, @target_type, @target_id, @doc)`,
  );
  // Filters combine freely, so the statements of a listing are prepared for each call.
  const page = db.transaction((filter: AuditFilter, paging: { limit: number; offset: number }) => {
    const { where, params } = whereOf(filter);
    const rows = db
      .prepare(
        `SELECT doc FROM audit_log ${where} ORDER BY at_ms DESC, audit_id DESC LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, ...paging }) as { doc: string }[];
    const { total } = db.prepare(`SELECT COUNT(*) AS total FROM audit_log ${where}`).get(params) as {
      total: number;
    };
    return { items: rows.map((row) => JSON.parse(row.doc) as AuditEntry), total };
  });

  return {
    async append(entry) {
      insert.run({
        audit_id: entry.audit_id,
        at_ms: toMillis(entry.at),
        actor_id: entry.actor_id,
        action: entry.action,
        target_type: entry.target_type,
        target_id: entry.target_id,
        doc: JSON.stringify(entry),
      });
    },
    async list(filter, paging) {
      return page(filter, paging);
    },
  };
}
