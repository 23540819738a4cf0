import type { Collection, Document } from 'mongodb';
import type { SessionRecord } from '../../domain/user';
import type { SessionRepository } from '../ports';
import { toDate, toRecord } from './documents';

/**
 * Sessions keyed by token hash. `_expires` is the expiry as a date: the TTL index removes expired
 * sessions where the server has TTL indexes; reads filter on it in any case, because removal is lazy
 * (and absent on servers without TTL, where `purgeExpired` clears them on each login instead).
 */
export function mongoSessionRepository(
  sessions: Collection<Document>,
  options: { purgeExpired: boolean },
): SessionRepository {
  return {
    async create(session) {
      if (options.purgeExpired) await sessions.deleteMany({ _expires: { $lte: new Date() } });
      await sessions.insertOne({ _id: session.token_hash, ...session, _expires: toDate(session.expires_at) });
    },
    async find(tokenHash, now) {
      return toRecord<SessionRecord>(await sessions.findOne({ _id: tokenHash, _expires: { $gt: now } }));
    },
    async delete(tokenHash) {
      await sessions.deleteOne({ _id: tokenHash });
    },
    async deleteForUser(userId) {
      await sessions.deleteMany({ user_id: userId });
    },
  };
}
