import type { Collection } from 'mongodb';
import type { SavedScriptRecord } from '../../domain/saved-script';
import { ConflictError, type SavedScriptRepository } from '../ports';
import { definedFields, isDuplicateKey, type StoredDocument, storable, toDate, toRecord } from './documents';

const RECENT_FIRST = { _updated: -1, script_id: -1 } as const;

const toDocument = (script: SavedScriptRecord): StoredDocument => ({
  _id: script.script_id,
  ...storable(script),
  _updated: toDate(script.updated_at),
});

export function mongoSavedScriptRepository(scripts: Collection<StoredDocument>): SavedScriptRepository {
  /** The owner's script, read by key alone (FerretDB serves only an `_id`-only filter from its key). */
  const owned = async (userId: string, scriptId: string) => {
    const current = toRecord<SavedScriptRecord>(await scripts.findOne({ _id: scriptId }));
    return current && current.user_id === userId ? current : null;
  };

  return {
    async create(script) {
      try {
        await scripts.insertOne(toDocument(script));
      } catch (error) {
        if (isDuplicateKey(error)) throw new ConflictError('Saved script already exists', 'script_id');
        throw error;
      }
    },
    async get(scriptId) {
      return toRecord<SavedScriptRecord>(await scripts.findOne({ _id: scriptId }));
    },
    async list(userId, paging) {
      const query = { user_id: userId };
      const [documents, total] = await Promise.all([
        paging.limit > 0
          ? scripts.find(query).sort(RECENT_FIRST).skip(paging.offset).limit(paging.limit).toArray()
          : [],
        scripts.countDocuments(query),
      ]);
      return { items: documents.map((document) => toRecord<SavedScriptRecord>(document)!), total };
    },
    async update(userId, scriptId, patch) {
      const current = await owned(userId, scriptId);
      if (!current) return null;
      const next = {
        ...current,
        ...definedFields(patch, ['script_id', 'user_id', 'created_at']),
      } as SavedScriptRecord;
      // Updates are not atomic on FerretDB: two racing edits of one script end as the last one written,
      // as they would for anyone saving a file twice. A script deleted meanwhile stays deleted.
      const result = await scripts.replaceOne({ _id: scriptId }, toDocument(next));
      return result.matchedCount > 0 ? next : null;
    },
    async delete(userId, scriptId) {
      if (!(await owned(userId, scriptId))) return false;
      return (await scripts.deleteOne({ _id: scriptId })).deletedCount > 0;
    },
    async deleteForUser(userId) {
      return (await scripts.deleteMany({ user_id: userId })).deletedCount;
    },
  };
}
