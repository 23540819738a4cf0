/** The embedded store: every repository in one SQLite file (or in memory with ':memory:'). */
import type { Repositories } from '../ports';
import { sqliteApiKeyRepository } from './api-keys';
import { sqliteAuditLogRepository } from './audit-log';
import { migrate, openDatabase } from './database';
import { sqliteDeadLetterRepository } from './dead-letters';
import { sqliteEventStore } from './events';
import { sqliteExecutionRepository } from './executions';
import { sqliteNotificationDeliveryRepository } from './notification-deliveries';
import { sqliteNotificationSubscriptionRepository } from './notification-subscriptions';
import { sqliteNotificationRepository } from './notifications';
import { sqliteSavedScriptRepository } from './saved-scripts';
import { sqliteSessionRepository } from './sessions';
import { sqliteSystemSettingsRepository } from './system-settings';
import { sqliteUserSettingsRepository } from './user-settings';
import { sqliteUserRepository } from './users';

export function openSqliteStore(path: string): Repositories {
  const db = openDatabase(path);
  try {
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  const ping = db.prepare('SELECT 1');
  return {
    users: sqliteUserRepository(db),
    sessions: sqliteSessionRepository(db),
    executions: sqliteExecutionRepository(db),
    notifications: sqliteNotificationRepository(db),
    notificationSubscriptions: sqliteNotificationSubscriptionRepository(db),
    notificationDeliveries: sqliteNotificationDeliveryRepository(db),
    savedScripts: sqliteSavedScriptRepository(db),
    userSettings: sqliteUserSettingsRepository(db),
    events: sqliteEventStore(db),
    deadLetters: sqliteDeadLetterRepository(db),
    apiKeys: sqliteApiKeyRepository(db),
    auditLog: sqliteAuditLogRepository(db),
    systemSettings: sqliteSystemSettingsRepository(db),
    async ping() {
      ping.get();
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
