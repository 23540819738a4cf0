import type { Collection } from 'mongodb';
import type { SessionRecord } from '../../domain/user';
import type { SessionRepository } from '../ports';
import { type StoredDocument, toDate, toRecord } from './documents';

/**
 * Sessions keyed by token hash. `_expires` is the expiry as a date: the TTL index removes expired
 * sessions where the server has TTL indexes; reads filter on it in any case, because removal is lazy
 * (and absent on servers without TTL, where `purgeExpired` clears them on each login instead).
 */
export function mongoSessionRepository(
  sessions: Collection<StoredDocument>,
  options: { purgeExpired: boolean },
): SessionRepository {
  return {
    async create(session) {
      if (options.purgeExpired) await sessions.deleteMany({ _expires: { $lte: new Date() } });
      await sessions.insertOne({ _id: session.token_hash, ...session, _expires: toDate(session.expires_at) });
    },
    async find(tokenHash, now) {
      // Looked up by key alone and checked here: FerretDB serves only an `_id`-only filter from its key.
      const document = await sessions.findOne({ _id: tokenHash });
      const expires = document?._expires;
      return expires instanceof Date && expires.getTime() > now.getTime()
        ? toRecord<SessionRecord>(document)
        : null;
    },
    async delete(tokenHash) {
      await sessions.deleteOne({ _id: tokenHash });
    },
    async deleteForUser(userId) {
      await sessions.deleteMany({ user_id: userId });
    },
  };
}
