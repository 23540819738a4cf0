import type { Collection, Filter } from 'mongodb';
import type { UserRecord } from '../../domain/user';
import { ConflictError, type UserFilter, type UserRepository } from '../ports';
import {
  definedFields,
  isDuplicateKey,
  literalPattern,
  type StoredDocument,
  storable,
  toRecord,
} from './documents';

/** Usernames and emails are unique regardless of letter case: unique indexes hold lower-cased copies. */
const uniqueKey = (value: string): string => value.toLowerCase();

const toDocument = (user: UserRecord): StoredDocument => ({
  _id: user.user_id,
  ...storable(user),
  _username: uniqueKey(user.username),
  _email: uniqueKey(user.email),
});

/** The search runs over the lower-cased copies, so it ignores letter case as the names' uniqueness does. */
function toQuery(filter: UserFilter): Filter<StoredDocument> {
  const query: Filter<StoredDocument> = {};
  if (filter.search) {
    const pattern = literalPattern(uniqueKey(filter.search));
    query.$or = [{ _username: { $regex: pattern } }, { _email: { $regex: pattern } }];
  }
  if (filter.role !== undefined) query.role = filter.role;
  if (filter.isActive !== undefined) query.is_active = filter.isActive;
  return query;
}

export function mongoUserRepository(users: Collection<StoredDocument>): UserRepository {
  /**
   * Which field a refused write collided on. The server's duplicate-key message differs between
   * servers and names only one index, so the holders are looked up, username before email, to report
   * the same field the embedded store does. Null when the colliding user has gone meanwhile.
   */
  const conflictFor = async (user: UserRecord, creating: boolean): Promise<ConflictError | null> => {
    if (creating && (await users.findOne({ _id: user.user_id }, { projection: { _id: 1 } }))) {
      return new ConflictError('User already exists', 'user_id');
    }
    const other = { $ne: user.user_id };
    if (
      await users.findOne({ _username: uniqueKey(user.username), _id: other }, { projection: { _id: 1 } })
    ) {
      return new ConflictError('Username already registered', 'username');
    }
    if (await users.findOne({ _email: uniqueKey(user.email), _id: other }, { projection: { _id: 1 } })) {
      return new ConflictError('Email already registered', 'email');
    }
    return null;
  };

  // A collision whose holder vanished before it could be named is retried a few times, then surfaced.
  const ATTEMPTS = 3;

  return {
    async create(user) {
      for (let attempt = 1; ; attempt++) {
        try {
          await users.insertOne(toDocument(user));
          return;
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          const conflict = await conflictFor(user, true);
          if (conflict) throw conflict;
          if (attempt >= ATTEMPTS) throw error;
        }
      }
    },
    async findById(userId) {
      return toRecord<UserRecord>(await users.findOne({ _id: userId }));
    },
    async findByUsername(username) {
      return toRecord<UserRecord>(await users.findOne({ _username: uniqueKey(username) }));
    },
    async update(userId, patch) {
      const fields = storable(definedFields(patch, ['user_id']));
      if (typeof fields.username === 'string') fields._username = uniqueKey(fields.username);
      if (typeof fields.email === 'string') fields._email = uniqueKey(fields.email);
      if (Object.keys(fields).length === 0) return this.findById(userId);
      for (let attempt = 1; ; attempt++) {
        try {
          const updated = await users.findOneAndUpdate(
            { _id: userId },
            { $set: fields },
            { returnDocument: 'after' },
          );
          return toRecord<UserRecord>(updated);
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          const current = toRecord<UserRecord>(await users.findOne({ _id: userId }));
          if (!current) return null;
          const conflict = await conflictFor({ ...current, ...(fields as Partial<UserRecord>) }, false);
          if (conflict) throw conflict;
          if (attempt >= ATTEMPTS) throw error;
        }
      }
    },
    async count() {
      return users.countDocuments({});
    },
    async list(filter, paging) {
      const query = toQuery(filter);
      const [documents, total] = await Promise.all([
        paging.limit > 0
          ? users.find(query).sort({ _username: 1, _id: 1 }).skip(paging.offset).limit(paging.limit).toArray()
          : [],
        users.countDocuments(query),
      ]);
      return { items: documents.map((document) => toRecord<UserRecord>(document)!), total };
    },
    async delete(userId) {
      return (await users.deleteOne({ _id: userId })).deletedCount > 0;
    },
  };
}
