import type { Collection, Filter } from 'mongodb';
import type { ExecutionRecord, ExecutionStatus } from '../../domain/execution';
import { ConflictError, type ExecutionFilter, type ExecutionRepository } from '../ports';
import { batchedInsert } from './batched-insert';
import {
  definedFields,
  inChunks,
  isDuplicateKey,
  type StoredDocument,
  storable,
  toDate,
  toRecord,
} from './documents';

/** Newest first, then by id: the order every listing uses and the indexes are built for. */
export const EXECUTION_ORDER = { _created: -1, execution_id: -1 } as const;

const toDocument = (execution: ExecutionRecord): StoredDocument => ({
  _id: execution.execution_id,
  ...storable(execution),
  _created: toDate(execution.created_at),
  _version: 0,
});

function toQuery(filter: ExecutionFilter): Filter<StoredDocument> {
  const query: Filter<StoredDocument> = {};
  if (filter.userId !== undefined) query.user_id = filter.userId;
  if (filter.status !== undefined) query.status = filter.status;
  if (filter.statuses !== undefined)
    query.status =
      filter.status === undefined
        ? { $in: [...filter.statuses] }
        : { $eq: filter.status, $in: [...filter.statuses] };
  if (filter.priority !== undefined) query.priority = filter.priority;
  if (filter.lang !== undefined) query.lang = filter.lang;
  if (filter.createdFrom !== undefined || filter.createdTo !== undefined) {
    const range: Record<string, Date> = {};
    if (filter.createdFrom !== undefined) range.$gte = toDate(filter.createdFrom);
    if (filter.createdTo !== undefined) range.$lte = toDate(filter.createdTo);
    query._created = range;
  }
  return query;
}

// How long a transition waits for another one that owns the same version to land, in total.
const SETTLE_ATTEMPTS = 60;
const SETTLE_DELAY_MS = 5;
// A claim whose write has not landed after this long is completed by whoever finds it.
const STALE_CLAIM_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Executions keyed by execution id, each with a `_version` that every transition increments.
 *
 * A transition is guarded by the current status. The server may evaluate an update's filter and
 * write the document in two steps (FerretDB does, see README.md), so the guard is not trusted to
 * the update: a transition first claims the version it read, by inserting the claim into
 * `claims` under a unique key (execution id, version). Inserts under a unique key are atomic on
 * every server, so exactly one transition owns each version; it alone writes version + 1, and the
 * others re-read the record and check their guard against what it now holds.
 */
export function mongoExecutionRepository(
  executions: Collection<StoredDocument>,
  claims: Collection<StoredDocument>,
): ExecutionRepository {
  const claimId = (executionId: string, version: number) => `${executionId}@${version}`;
  const insert = batchedInsert(executions);

  /**
   * Writes the changes of a version this caller owns. The filter is the key alone: FerretDB serves
   * only an `_id`-only filter from its key and scans the collection for anything more, and the claim
   * already guarantees that nobody else writes this version.
   */
  const writeClaimed = async (executionId: string, version: number, changes: Record<string, unknown>) =>
    toRecord<ExecutionRecord>(
      await executions.findOneAndUpdate(
        { _id: executionId },
        { $set: { ...changes, _version: version + 1 } },
        { returnDocument: 'after' },
      ),
    );

  /** Completes another transition's claim when its owner evidently died between claiming and writing. */
  const completeIfStale = async (executionId: string, version: number) => {
    const claim = await claims.findOne({ _id: claimId(executionId, version) });
    if (!claim || Date.now() - (claim.claimed_at as Date).getTime() < STALE_CLAIM_MS) return;
    const current = await executions.findOne({ _id: executionId }, { projection: { _version: 1 } });
    if (current?._version !== version) return;
    await writeClaimed(executionId, version, claim.changes as Record<string, unknown>);
  };

  return {
    async create(execution) {
      if ((await insert(toDocument(execution))) === 'duplicate')
        throw new ConflictError('Execution already exists', 'execution_id');
    },
    async get(executionId) {
      return toRecord<ExecutionRecord>(await executions.findOne({ _id: executionId }));
    },
    async transition(executionId, from, patch) {
      const changes = storable(definedFields(patch, ['execution_id', 'user_id']));
      if (typeof changes.created_at === 'string') changes._created = toDate(changes.created_at);
      for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
        const current = await executions.findOne({ _id: executionId });
        if (!current || !from.includes(current.status)) return null;
        if (Object.keys(changes).length === 0) return toRecord<ExecutionRecord>(current);
        const version = typeof current._version === 'number' ? current._version : 0;
        try {
          await claims.insertOne({
            _id: claimId(executionId, version),
            execution_id: executionId,
            version,
            changes,
            claimed_at: new Date(),
          });
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          // Another transition owns this version: wait for its write, then look again.
          await completeIfStale(executionId, version);
          await sleep(SETTLE_DELAY_MS * Math.min(attempt + 1, 10));
          continue;
        }
        return writeClaimed(executionId, version, changes);
      }
      throw new Error(`transition of execution ${executionId} did not settle`);
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
    async countByStatus(userId) {
      // One scan of the user's statuses, counted here: FerretDB would scan once per status counted there.
      const counts: Partial<Record<ExecutionStatus, number>> = {};
      const statuses = executions.find({ user_id: userId }, { projection: { _id: 0, status: 1 } });
      for await (const { status } of statuses) {
        const key = status as ExecutionStatus;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    },
    async deleteForUser(userId) {
      const owned = await executions
        .find({ user_id: userId }, { projection: { _id: 1, _version: 1 } })
        .toArray();
      for (const chunk of inChunks(owned)) {
        await executions.deleteMany({ _id: { $in: chunk.map((document) => document._id) } });
        // Their claims go too, named by key as in `delete`.
        const claimIds = chunk.flatMap((document) => {
          const versions = typeof document._version === 'number' ? document._version : 0;
          return Array.from({ length: versions + 1 }, (_, version) => claimId(document._id, version));
        });
        for (const claimChunk of inChunks(claimIds)) await claims.deleteMany({ _id: { $in: claimChunk } });
      }
      return owned.map((document) => document._id);
    },
    async delete(executionId) {
      // No projection: FerretDB refuses findAndModify's `fields`.
      const deleted = await executions.findOneAndDelete({ _id: executionId });
      if (!deleted) return false;
      // Its claims go too, each by key (a filter on another field would scan every claim on FerretDB).
      const versions = typeof deleted._version === 'number' ? deleted._version : 0;
      for (let version = 0; version <= versions; version++) {
        await claims.deleteOne({ _id: claimId(executionId, version) });
      }
      return true;
    },
  };
}
