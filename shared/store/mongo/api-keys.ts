import type { Collection } from 'mongodb';
import type { ApiKeyRecord } from '../../domain/api-key';
import { type ApiKeyRepository, ConflictError } from '../ports';
import { isDuplicateKey, type StoredDocument, storable, toDate, toRecord } from './documents';

const NEWEST_FIRST = { _created: -1, key_id: -1 } as const;

const toDocument = (key: ApiKeyRecord): StoredDocument => ({
  _id: key.key_id,
  ...storable(key),
  _created: toDate(key.created_at),
});

export function mongoApiKeyRepository(keys: Collection<StoredDocument>): ApiKeyRepository {
  return {
    async create(key) {
      try {
        await keys.insertOne(toDocument(key));
      } catch (error) {
        if (isDuplicateKey(error)) throw new ConflictError('API key already exists', 'key_id');
        throw error;
      }
    },
    async findByHash(keyHash) {
      return toRecord<ApiKeyRecord>(await keys.findOne({ key_hash: keyHash }));
    },
    async listForUser(userId) {
      const documents = await keys.find({ user_id: userId }).sort(NEWEST_FIRST).toArray();
      return documents.map((document) => toRecord<ApiKeyRecord>(document)!);
    },
    async touch(keyId, at) {
      // Racing writes of the last use differ by moments; whichever lands last is as good.
      await keys.updateOne({ _id: keyId }, { $set: { last_used_at: at } });
    },
    async delete(userId, keyId) {
      return (await keys.deleteOne({ _id: keyId, user_id: userId })).deletedCount > 0;
    },
    async deleteForUser(userId) {
      return (await keys.deleteMany({ user_id: userId })).deletedCount;
    },
  };
}
