import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { describeRepositoriesContract } from '../contracts';
import {
  aCompletedEvent,
  aNotification,
  anExecution,
  anOutputEvent,
  aSavedScript,
  aSettingsRevision,
  aUser,
} from '../contracts/fixtures';
import { openSqliteStore } from '.';
import { SCHEMA_VERSION } from './database';

const directory = mkdtempSync(join(tmpdir(), 'integr8s-store-'));
let files = 0;
const freshFile = () => join(directory, `store-${++files}.db`);

afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Undoes migration N (N ≥ 2): dropped in turn from the newest to recreate a file of an older schema. */
const UNDO_MIGRATION: Record<number, string> = {
  2: 'DROP TABLE saved_scripts;',
  3: 'DROP TABLE user_settings; DROP TABLE user_settings_revisions;',
  4: `DROP INDEX events_by_user; ALTER TABLE events DROP COLUMN user_id;
      ALTER TABLE events DROP COLUMN created_ms;`,
  5: `DROP TABLE notification_subscriptions; DROP TABLE notification_deliveries;
      DROP TABLE notification_delivery_attempts;`,
  6: 'DROP INDEX events_by_time; DROP TABLE events_archive;',
  7: 'DROP TABLE api_keys;',
  8: 'DROP TABLE audit_log;',
  9: 'DROP TABLE system_settings;',
};

/** Turns the file at `path` into what a build of schema `version` left behind. */
function downgrade(path: string, version: number): void {
  const raw = new Database(path);
  for (let undone = SCHEMA_VERSION; undone > version; undone--) raw.exec(UNDO_MIGRATION[undone]!);
  raw.pragma(`user_version = ${version}`);
  raw.close();
}

describeRepositoriesContract('sqlite file', async () => openSqliteStore(freshFile()));

describe('openSqliteStore', () => {
  it('keeps data across closing and reopening the file', async () => {
    const path = freshFile();
    const first = openSqliteStore(path);
    await first.users.create(aUser());
    await first.executions.create(anExecution());
    await first.executions.transition('exec-1', ['queued'], { status: 'running' });
    await first.notifications.create(aNotification());
    const stored = await first.events.append(anOutputEvent());
    await first.close();

    const reopened = openSqliteStore(path);
    expect(await reopened.users.findByUsername('ADA')).toEqual(aUser());
    expect(await reopened.executions.get('exec-1')).toEqual(anExecution({ status: 'running' }));
    expect(await reopened.notifications.create(aNotification({ notification_id: 'again' }))).toBe(false);
    expect(await reopened.events.append(anOutputEvent())).toEqual({ ...stored, duplicate: true });
    const next = await reopened.events.append(anOutputEvent({ event_id: 'event-2' }));
    expect(next.seq).toBeGreaterThan(stored.seq);
    await reopened.close();
  });

  it('uses WAL and records the schema version, migrating an existing file only once', async () => {
    const path = freshFile();
    await openSqliteStore(path).close();
    await openSqliteStore(path).close();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it('upgrades a file of the first schema, keeping its data and adding saved scripts and settings', async () => {
    const path = freshFile();
    const first = openSqliteStore(path);
    await first.users.create(aUser());
    await first.close();
    downgrade(path, 1);

    const upgraded = openSqliteStore(path);
    expect(await upgraded.users.findById('user-1')).toEqual(aUser());
    await upgraded.savedScripts.create(aSavedScript());
    expect(await upgraded.userSettings.save(aSettingsRevision(1))).toBe(true);
    await upgraded.close();
  });

  it('upgrades a file of schema 3, finding its stored events by user and time', async () => {
    const path = freshFile();
    const first = openSqliteStore(path);
    const completed = aCompletedEvent({ timestamp: '2025-01-01T10:20:30.456Z' });
    const anonymous = anOutputEvent();
    await first.events.append(completed);
    await first.events.append(anonymous);
    await first.close();
    // Schema 3 stored events without the user and time columns.
    downgrade(path, 3);

    const upgraded = openSqliteStore(path);
    expect((await upgraded.events.listByUser('user-1')).map((stored) => stored.event)).toEqual([completed]);
    // Exact to the millisecond: an instant one millisecond later is not counted.
    expect(await upgraded.events.tally({ userId: 'user-1', from: '2025-01-01T10:20:30.456Z' })).toEqual([
      {
        hour: '2025-01-01T10:00:00.000Z',
        event_type: 'execution_completed',
        service_name: 'monitor',
        user_id: 'user-1',
        count: 1,
      },
    ]);
    expect(await upgraded.events.tally({ userId: 'user-1', from: '2025-01-01T10:20:30.457Z' })).toEqual([]);
    expect(await upgraded.events.deleteForUser('user-1', [])).toBe(1);
    expect(await upgraded.events.get(anonymous.event_id)).not.toBeNull();
    await upgraded.close();
  });

  it('upgrades a file of schema 4, adding notification subscriptions and deliveries', async () => {
    const path = freshFile();
    const first = openSqliteStore(path);
    await first.notifications.create(aNotification());
    await first.close();
    downgrade(path, 4);

    const upgraded = openSqliteStore(path);
    expect(await upgraded.notificationSubscriptions.list('user-1')).toEqual([]);
    expect(await upgraded.notificationDeliveries.nextDue()).toBeNull();
    expect(await upgraded.notifications.get(aNotification().notification_id)).toEqual(aNotification());
    await upgraded.close();
  });

  it('upgrades a file of schema 5, adding the event archive', async () => {
    const path = freshFile();
    const first = openSqliteStore(path);
    await first.events.append(anOutputEvent());
    await first.close();
    downgrade(path, 5);

    const upgraded = openSqliteStore(path);
    const by = { deleted_by: 'admin@example.com', deleted_at: '2025-02-01T00:00:00.000Z' };
    expect(await upgraded.events.archive(anOutputEvent().event_id, by)).toMatchObject(by);
    expect(await upgraded.events.browse({}, { skip: 0, limit: 10 })).toEqual({ items: [], total: 0 });
    await upgraded.close();
  });

  it('refuses a file written by a newer schema', () => {
    const path = freshFile();
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => openSqliteStore(path)).toThrow(/newer/);
  });

  it('works in memory and answers ping until closed', async () => {
    const store = openSqliteStore(':memory:');
    await store.ping();
    await store.users.create(aUser());
    expect(await store.users.count()).toBe(1);
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });

  /** The plan SQLite makes for `query` on a freshly migrated file. */
  const planOf = (query: string, ...params: unknown[]): string => {
    const path = freshFile();
    openSqliteStore(path).close();
    const raw = new Database(path, { readonly: true });
    const plan = raw.prepare(`EXPLAIN QUERY PLAN ${query}`).all(...params) as { detail: string }[];
    raw.close();
    return plan.map((step) => step.detail).join('\n');
  };

  it("serves one user's newest page from the per-user index", () => {
    const plan = planOf(
      `SELECT doc FROM executions WHERE user_id = ? AND +status = ?
       ORDER BY created_ms DESC, execution_id DESC LIMIT 50`,
      'u',
      'completed',
    );
    expect(plan).toMatch(/USING INDEX executions_by_user/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
  });

  it('finds due deliveries from the index of pending ones, without sorting', () => {
    const plan = planOf(
      `SELECT doc FROM notification_deliveries WHERE status = 'pending' AND due_ms <= ?
       ORDER BY due_ms, delivery_id LIMIT 50`,
      0,
    );
    expect(plan).toMatch(/USING INDEX notification_deliveries_due/);
  });

  it("serves one user's newest events and their recent counts from the per-user event index", () => {
    const newest = planOf(
      'SELECT doc FROM events WHERE user_id = ? ORDER BY created_ms DESC, seq DESC LIMIT 10',
      'u',
    );
    expect(newest).toMatch(/USING INDEX events_by_user/);
    expect(newest).not.toMatch(/TEMP B-TREE/);
    expect(planOf('SELECT COUNT(*) FROM events WHERE user_id = ? AND created_ms >= ?', 'u', 0)).toMatch(
      /USING (COVERING )?INDEX events_by_user/,
    );
  });
});
