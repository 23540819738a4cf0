import type { Collection, Document, Filter } from 'mongodb';
import type { ExecutionRecord } from '../../domain/execution';
import { ConflictError, type ExecutionFilter, type ExecutionRepository } from '../ports';
import { definedFields, isDuplicateKey, toDate, toRecord } from './documents';

/** Newest first, then by id: the order every listing uses and the indexes are built for. */
export const EXECUTION_ORDER = { _created: -1, execution_id: -1 } as const;

const toDocument = (execution: ExecutionRecord): Document => ({
  _id: execution.execution_id,
  ...execution,
  _created: toDate(execution.created_at),
});

function toQuery(filter: ExecutionFilter): Filter<Document> {
  const query: Filter<Document> = {};
  if (filter.userId !== undefined) query.user_id = filter.userId;
  if (filter.status !== undefined) query.status = filter.status;
  if (filter.lang !== undefined) query.lang = filter.lang;
  if (filter.createdFrom !== undefined || filter.createdTo !== undefined) {
    const range: Record<string, Date> = {};
    if (filter.createdFrom !== undefined) range.$gte = toDate(filter.createdFrom);
    if (filter.createdTo !== undefined) range.$lte = toDate(filter.createdTo);
    query._created = range;
  }
  return query;
}

export function mongoExecutionRepository(executions: Collection<Document>): ExecutionRepository {
  return {
    async create(execution) {
      try {
        await executions.insertOne(toDocument(execution));
      } catch (error) {
        if (isDuplicateKey(error)) throw new ConflictError('Execution already exists', 'execution_id');
        throw error;
      }
    },
    async get(executionId) {
      return toRecord<ExecutionRecord>(await executions.findOne({ _id: executionId }));
    },
    async transition(executionId, from, patch) {
      const guard = { _id: executionId, status: { $in: [...from] } };
      const changes = definedFields(patch, ['execution_id', 'user_id']);
      if (typeof changes.created_at === 'string') changes._created = toDate(changes.created_at);
      // An empty `$set` is an error on the server; an empty patch only checks the guard.
      if (Object.keys(changes).length === 0) return toRecord<ExecutionRecord>(await executions.findOne(guard));
      // The guard and the write are one server-side operation, so of two racing transitions only one matches.
      const updated = await executions.findOneAndUpdate(guard, { $set: changes }, { returnDocument: 'after' });
      return toRecord<ExecutionRecord>(updated);
    },
    async list(filter, paging) {
      const query = toQuery(filter);
      const [documents, total] = await Promise.all([
        // A limit of 0 means "no limit" to the server, but an empty page here.
        paging.limit > 0
          ? executions.find(query).sort(EXECUTION_ORDER).skip(paging.skip).limit(paging.limit).toArray()
          : [],
        executions.countDocuments(query),
      ]);
      return { items: documents.map((document) => toRecord<ExecutionRecord>(document)!), total };
    },
    async delete(executionId) {
      return (await executions.deleteOne({ _id: executionId })).deletedCount > 0;
    },
  };
}
