import type { Collection, Filter } from 'mongodb';
import type { AuditEntry } from '../../domain/audit';
import type { AuditFilter, AuditLogRepository } from '../ports';
import { type StoredDocument, storable, toDate, toRecord } from './documents';

const NEWEST_FIRST = { _at: -1, audit_id: -1 } as const;

function queryOf(filter: AuditFilter): Filter<StoredDocument> {
  const query: Filter<StoredDocument> = {};
  if (filter.actorId !== undefined) query.actor_id = filter.actorId;
  if (filter.action !== undefined) query.action = filter.action;
  if (filter.targetType !== undefined) query.target_type = filter.targetType;
  if (filter.targetId !== undefined) query.target_id = filter.targetId;
  if (filter.from !== undefined || filter.to !== undefined)
    query._at = {
      ...(filter.from !== undefined && { $gte: toDate(filter.from) }),
      ...(filter.to !== undefined && { $lte: toDate(filter.to) }),
    };
  return query;
}

export function mongoAuditLogRepository(entries: Collection<StoredDocument>): AuditLogRepository {
  return {
    async append(entry) {
      await entries.insertOne({ _id: entry.audit_id, ...storable(entry), _at: toDate(entry.at) });
    },
    async list(filter, paging) {
      const query = queryOf(filter);
      const [documents, total] = await Promise.all([
        paging.limit > 0
          ? entries.find(query).sort(NEWEST_FIRST).skip(paging.offset).limit(paging.limit).toArray()
          : [],
        entries.countDocuments(query),
      ]);
      return { items: documents.map((document) => toRecord<AuditEntry>(document)!), total };
    },
  };
}
