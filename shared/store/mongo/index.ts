/**
 * The MongoDB store: every durable repository in one database of a MongoDB-wire server (MongoDB itself,
 * or FerretDB, which the platform runs). Sessions live in Redis (see ../redis/sessions.ts). What the
 * adapter assumes of the server is in README.md.
 */
import { type Db, type IndexDescription, MongoClient } from 'mongodb';
import type { Repositories } from '../ports';
import { mongoApiKeyRepository } from './api-keys';
import { mongoAuditLogRepository } from './audit-log';
import { mongoDeadLetterRepository } from './dead-letters';
import type { StoredDocument } from './documents';
import { mongoEventStore } from './events';
import { mongoExecutionRepository } from './executions';
import { mongoNotificationDeliveryRepository } from './notification-deliveries';
import { mongoNotificationSubscriptionRepository } from './notification-subscriptions';
import { mongoNotificationRepository } from './notifications';
import { mongoSavedScriptRepository } from './saved-scripts';
import { mongoSystemSettingsRepository } from './system-settings';
import { mongoUserSettingsRepository } from './user-settings';
import { mongoUserRepository } from './users';

export const COLLECTIONS = {
  users: 'users',
  executions: 'executions',
  executionClaims: 'execution_claims',
  notifications: 'notifications',
  notificationSubscriptions: 'notification_subscriptions',
  notificationDeliveries: 'notification_deliveries',
  notificationDeliveryAttempts: 'notification_delivery_attempts',
  savedScripts: 'saved_scripts',
  apiKeys: 'api_keys',
  auditLog: 'audit_log',
  systemSettings: 'system_settings',
  userSettings: 'user_settings',
  userSettingsRevisions: 'user_settings_revisions',
  events: 'events',
  eventsArchive: 'events_archive',
  deadLetters: 'dead_letters',
  counters: 'counters',
} as const;

/** Indexes by collection. Natural keys are `_id`, so their uniqueness needs no index of its own. */
export const INDEXES: Record<string, IndexDescription[]> = {
  [COLLECTIONS.users]: [
    // Also the order of user listings (`_username`, then `_id`).
    { key: { _username: 1 }, name: 'username_unique', unique: true },
    { key: { _email: 1 }, name: 'email_unique', unique: true },
  ],
  [COLLECTIONS.executions]: [
    { key: { user_id: 1, _created: -1, execution_id: -1 }, name: 'by_user_newest' },
    { key: { status: 1, _created: -1, execution_id: -1 }, name: 'by_status_newest' },
    { key: { _created: -1, execution_id: -1 }, name: 'newest' },
  ],
  [COLLECTIONS.notifications]: [
    { key: { user_id: 1, _created: -1, notification_id: -1 }, name: 'by_user_newest' },
    { key: { user_id: 1, source_event_id: 1 }, name: 'source_event_unique', unique: true },
  ],
  [COLLECTIONS.notificationSubscriptions]: [{ key: { user_id: 1 }, name: 'by_user' }],
  [COLLECTIONS.notificationDeliveries]: [
    { key: { status: 1, _due: 1 }, name: 'pending_by_due' },
    { key: { user_id: 1, _created: -1, delivery_id: -1 }, name: 'by_user_newest' },
  ],
  [COLLECTIONS.notificationDeliveryAttempts]: [
    { key: { delivery_id: 1, attempt: 1 }, name: 'by_delivery' },
    { key: { user_id: 1, channel: 1, _started: 1 }, name: 'by_user_channel_started' },
  ],
  [COLLECTIONS.savedScripts]: [{ key: { user_id: 1, _updated: -1, script_id: -1 }, name: 'by_user_recent' }],
  [COLLECTIONS.apiKeys]: [
    { key: { key_hash: 1 }, name: 'key_hash_unique', unique: true },
    { key: { user_id: 1, _created: -1, key_id: -1 }, name: 'by_user_newest' },
  ],
  [COLLECTIONS.auditLog]: [
    { key: { _at: -1, audit_id: -1 }, name: 'newest' },
    { key: { target_type: 1, target_id: 1, _at: -1 }, name: 'by_target' },
    { key: { actor_id: 1, _at: -1 }, name: 'by_actor' },
  ],
  [COLLECTIONS.userSettingsRevisions]: [{ key: { user_id: 1, version: -1 }, name: 'by_user_newest' }],
  [COLLECTIONS.events]: [
    { key: { seq: 1 }, name: 'seq_unique', unique: true },
    { key: { aggregate_id: 1, seq: 1 }, name: 'by_aggregate' },
    { key: { 'event.metadata.user_id': 1, 'event.timestamp': -1, seq: -1 }, name: 'by_user_newest' },
    { key: { 'event.timestamp': -1, seq: -1 }, name: 'newest' },
  ],
  [COLLECTIONS.deadLetters]: [{ key: { _created: -1, dead_letter_id: -1 }, name: 'newest' }],
};

/** Creates every collection's indexes; repeating it is a no-op. */
export async function ensureIndexes(db: Db): Promise<void> {
  // One index per command: FerretDB 1.24 drops the connection when one command repeats several
  // existing indexes, while repeating a single one is the documented no-op.
  for (const [collection, indexes] of Object.entries(INDEXES)) {
    for (const index of indexes) await db.collection(collection).createIndexes([index]);
  }
}

/** The repositories the MongoDB store holds: all but sessions. */
export type MongoRepositories = Omit<Repositories, 'sessions'>;

/**
 * Connects, creates the indexes and returns the repositories. The database is `options.dbName`, or
 * the one named in the URL's path.
 */
export async function openMongoStore(
  url: string,
  options: { dbName?: string } = {},
): Promise<MongoRepositories> {
  // Absent optional fields stay absent, as they do in the embedded store's JSON, instead of becoming null.
  const client = new MongoClient(url, { ignoreUndefined: true, serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  try {
    const db = client.db(options.dbName);
    await ensureIndexes(db);
    const collection = (name: string) => db.collection<StoredDocument>(name);
    let closed = false;
    return {
      users: mongoUserRepository(collection(COLLECTIONS.users)),
      executions: mongoExecutionRepository(
        collection(COLLECTIONS.executions),
        collection(COLLECTIONS.executionClaims),
      ),
      notifications: mongoNotificationRepository(collection(COLLECTIONS.notifications)),
      notificationSubscriptions: mongoNotificationSubscriptionRepository(
        collection(COLLECTIONS.notificationSubscriptions),
      ),
      notificationDeliveries: mongoNotificationDeliveryRepository(
        collection(COLLECTIONS.notificationDeliveries),
        collection(COLLECTIONS.notificationDeliveryAttempts),
      ),
      savedScripts: mongoSavedScriptRepository(collection(COLLECTIONS.savedScripts)),
      apiKeys: mongoApiKeyRepository(collection(COLLECTIONS.apiKeys)),
      auditLog: mongoAuditLogRepository(collection(COLLECTIONS.auditLog)),
      systemSettings: mongoSystemSettingsRepository(collection(COLLECTIONS.systemSettings)),
      userSettings: mongoUserSettingsRepository(
        collection(COLLECTIONS.userSettings),
        collection(COLLECTIONS.userSettingsRevisions),
      ),
      events: mongoEventStore(
        collection(COLLECTIONS.events),
        collection(COLLECTIONS.counters),
        collection(COLLECTIONS.eventsArchive),
      ),
      deadLetters: mongoDeadLetterRepository(collection(COLLECTIONS.deadLetters)),
      async ping() {
        // The driver would quietly reconnect a closed client; a closed store is not ready.
        if (closed) throw new Error('the store is closed');
        await db.command({ ping: 1 });
      },
      async close() {
        closed = true;
        await client.close();
      },
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}
