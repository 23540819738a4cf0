import type { UserRecord } from '../../domain/user';
import { ConflictError, type UserRepository } from '../ports';
import type { SqliteDatabase } from './database';
import { applyPatch } from './patch';

/** Usernames and emails are unique regardless of letter case. */
const uniqueKey = (value: string): string => value.toLowerCase();

export function sqliteUserRepository(db: SqliteDatabase): UserRepository {
  const sql = {
    insert: db.prepare(
      'INSERT INTO users (user_id, username_key, email_key, doc) VALUES (@user_id, @username_key, @email_key, @doc)',
    ),
    update: db.prepare(
      'UPDATE users SET username_key = @username_key, email_key = @email_key, doc = @doc WHERE user_id = @user_id',
    ),
    byId: db.prepare<[string], { doc: string }>('SELECT doc FROM users WHERE user_id = ?'),
    byUsername: db.prepare<[string], { doc: string }>('SELECT doc FROM users WHERE username_key = ?'),
    otherWithUsername: db.prepare<[string, string], { user_id: string }>(
      'SELECT user_id FROM users WHERE username_key = ? AND user_id <> ?',
    ),
    otherWithEmail: db.prepare<[string, string], { user_id: string }>(
      'SELECT user_id FROM users WHERE email_key = ? AND user_id <> ?',
    ),
    count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users'),
  };

  const row = (user: UserRecord) => ({
    user_id: user.user_id,
    username_key: uniqueKey(user.username),
    email_key: uniqueKey(user.email),
    doc: JSON.stringify(user),
  });

  /** Checked under the write lock, username first, so the reported field is deterministic. */
  const assertAvailable = (user: UserRecord) => {
    if (sql.otherWithUsername.get(uniqueKey(user.username), user.user_id)) {
      throw new ConflictError('Username already registered', 'username');
    }
    if (sql.otherWithEmail.get(uniqueKey(user.email), user.user_id)) {
      throw new ConflictError('Email already registered', 'email');
    }
  };

  const create = db.transaction((user: UserRecord) => {
    if (sql.byId.get(user.user_id)) throw new ConflictError('User already exists', 'user_id');
    assertAvailable(user);
    sql.insert.run(row(user));
  });

  const update = db.transaction((userId: string, patch: Partial<Omit<UserRecord, 'user_id'>>) => {
    const current = sql.byId.get(userId);
    if (!current) return null;
    const next = { ...applyPatch(JSON.parse(current.doc) as UserRecord, patch), user_id: userId };
    assertAvailable(next);
    sql.update.run(row(next));
    return next;
  });

  const parse = (found: { doc: string } | undefined) =>
    found ? (JSON.parse(found.doc) as UserRecord) : null;

  return {
    async create(user) {
      create.immediate(user);
    },
    async findById(userId) {
      return parse(sql.byId.get(userId));
    },
    async findByUsername(username) {
      return parse(sql.byUsername.get(uniqueKey(username)));
    },
    async update(userId, patch) {
      return update.immediate(userId, patch);
    },
    async count() {
      return sql.count.get()!.n;
    },
  };
}
