import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { describeRepositoriesContract } from '../contracts';
import {
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
    // What a build of schema version 1 left behind.
    const raw = new Database(path);
    raw.exec('DROP TABLE saved_scripts; DROP TABLE user_settings; DROP TABLE user_settings_revisions;');
    raw.pragma('user_version = 1');
    raw.close();

    const upgraded = openSqliteStore(path);
    expect(await upgraded.users.findById('user-1')).toEqual(aUser());
    await upgraded.savedScripts.create(aSavedScript());
    expect(await upgraded.userSettings.save(aSettingsRevision(1))).toBe(true);
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

  it("serves one user's newest page from the per-user index", () => {
    const path = freshFile();
    openSqliteStore(path).close();
    const raw = new Database(path, { readonly: true });
    const plan = raw
      .prepare(
        `EXPLAIN QUERY PLAN SELECT doc FROM executions WHERE user_id = ? AND +status = ?
         ORDER BY created_ms DESC, execution_id DESC LIMIT 50`,
      )
      .all('u', 'completed') as { detail: string }[];
    raw.close();
    expect(plan.map((step) => step.detail).join('\n')).toMatch(/USING INDEX executions_by_user/);
    expect(plan.map((step) => step.detail).join('\n')).not.toMatch(/TEMP B-TREE/);
  });
});
