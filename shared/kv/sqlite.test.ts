import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { aUser } from '../store/contracts/fixtures';
import { openSqliteStore } from '../store/sqlite';
import { describeKeyValueStoreContract } from './kv.contract';
import { SqliteKeyValueStore } from './sqlite';

const directory = mkdtempSync(join(tmpdir(), 'integr8s-kv-'));
let files = 0;
const freshFile = () => join(directory, `kv-${++files}.db`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeKeyValueStoreContract('sqlite file', async () => new SqliteKeyValueStore(freshFile()));

describe('SqliteKeyValueStore', () => {
  const rowCount = (path: string) => {
    const raw = new Database(path, { readonly: true });
    const { n } = raw.prepare('SELECT COUNT(*) AS n FROM kv_entries').get() as { n: number };
    raw.close();
    return n;
  };

  it('deletes expired rows when purging', async () => {
    const path = freshFile();
    const kv = new SqliteKeyValueStore(path);
    await kv.set('expiring', 'x', { ttlMs: 20 });
    await kv.increment('expiring-counter', { ttlMs: 20 });
    await kv.set('kept', 'y');
    await sleep(50);
    expect(kv.purgeExpired()).toBe(2);
    expect(rowCount(path)).toBe(1);
    await kv.close();
  });

  it('purges expired rows on its own timer', async () => {
    const path = freshFile();
    const kv = new SqliteKeyValueStore(path, { purgeIntervalMs: 20 });
    await kv.set('expiring', 'x', { ttlMs: 10 });
    await sleep(100);
    expect(rowCount(path)).toBe(0);
    await kv.close();
  });

  it('shares a file with the embedded store and keeps values across reopening', async () => {
    const path = freshFile();
    const store = openSqliteStore(path);
    const kv = new SqliteKeyValueStore(path);
    await store.users.create(aUser());
    await kv.set('login_lockout:attempts:ada', '3');
    await kv.close();
    await store.close();

    const reopenedStore = openSqliteStore(path);
    const reopenedKv = new SqliteKeyValueStore(path);
    expect(await reopenedKv.get('login_lockout:attempts:ada')).toBe('3');
    expect(await reopenedStore.users.findById('user-1')).toEqual(aUser());
    await reopenedKv.close();
    await reopenedStore.close();
  });

  it('sees writes made through another connection to the same file', async () => {
    const path = freshFile();
    const first = new SqliteKeyValueStore(path);
    const second = new SqliteKeyValueStore(path);
    expect(await first.set('processed:event-1', '1', { onlyIfAbsent: true })).toBe(true);
    expect(await second.set('processed:event-1', '1', { onlyIfAbsent: true })).toBe(false);
    await first.increment('hits');
    expect(await second.increment('hits')).toBe(2);
    await first.close();
    await second.close();
  });
});
