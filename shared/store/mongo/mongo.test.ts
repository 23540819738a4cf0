import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeApiKeyRepositoryContract,
  describeAuditLogRepositoryContract,
  describeDeadLetterRepositoryContract,
  describeEventStoreContract,
  describeExecutionRepositoryContract,
  describeNotificationDeliveryRepositoryContract,
  describeNotificationRepositoryContract,
  describeNotificationSubscriptionRepositoryContract,
  describeSavedScriptRepositoryContract,
  describeSystemSettingsRepositoryContract,
  describeUserRepositoryContract,
  describeUserSettingsRepositoryContract,
} from '../contracts';
import { anExecution, anOutputEvent, aSettingsRevision, aUser } from '../contracts/fixtures';
import { COLLECTIONS, INDEXES, openMongoStore } from '.';
import { EVENT_SEQ_COUNTER } from './events';

const url = process.env.INTEGR8S_MONGO_URL;
if (!url) console.warn('shared/store/mongo: INTEGR8S_MONGO_URL is not set; skipping the MongoDB store tests');

/** Every test gets a database of its own under one random prefix per run; all are dropped at the end. */
const runPrefix = `integr8s_test_${randomBytes(4).toString('hex')}`;
const databases: string[] = [];
const freshDatabase = () => {
  const name = `${runPrefix}_${databases.length + 1}`;
  databases.push(name);
  return name;
};

describe.skipIf(!url)('MongoDB store', () => {
  let admin: MongoClient;
  beforeAll(async () => {
    admin = await new MongoClient(url!).connect();
  });
  afterAll(async () => {
    for (const name of databases) await admin.db(name).dropDatabase();
    await admin.close();
  });

  // Every port the store holds; sessions are Redis's (shared/store/redis).
  const openFresh = async () => openMongoStore(url!, { dbName: freshDatabase() });
  describeUserRepositoryContract('mongodb', openFresh);
  describeExecutionRepositoryContract('mongodb', openFresh);
  describeNotificationRepositoryContract('mongodb', openFresh);
  describeNotificationSubscriptionRepositoryContract('mongodb', openFresh);
  describeNotificationDeliveryRepositoryContract('mongodb', openFresh);
  describeSavedScriptRepositoryContract('mongodb', openFresh);
  describeUserSettingsRepositoryContract('mongodb', openFresh);
  describeEventStoreContract('mongodb', openFresh);
  describeDeadLetterRepositoryContract('mongodb', openFresh);
  describeApiKeyRepositoryContract('mongodb', openFresh);
  describeAuditLogRepositoryContract('mongodb', openFresh);
  describeSystemSettingsRepositoryContract('mongodb', openFresh);

  describe('openMongoStore', () => {
    it('creates the indexes, and opening the same database again changes nothing', async () => {
      const dbName = freshDatabase();
      const first = await openMongoStore(url!, { dbName });
      await first.users.create(aUser());
      const indexNames = async () => {
        const names: Record<string, string[]> = {};
        for (const collection of Object.keys(INDEXES)) {
          const indexes = await admin.db(dbName).collection(collection).indexes();
          names[collection] = indexes.map((index) => index.name!).sort();
        }
        return names;
      };
      const before = await indexNames();
      for (const [collection, indexes] of Object.entries(INDEXES)) {
        expect(before[collection]).toEqual(expect.arrayContaining(indexes.map((index) => index.name)));
      }

      const second = await openMongoStore(url!, { dbName });
      expect(await indexNames()).toEqual(before);
      expect(await second.users.findByUsername('ADA')).toEqual(aUser());
      await expect(
        second.users.create(aUser({ user_id: 'user-2', email: 'x@example.com' })),
      ).rejects.toMatchObject({
        field: 'username',
      });
      await first.close();
      await second.close();
    });

    it('keeps data across reconnecting, continuing event positions', async () => {
      const dbName = freshDatabase();
      const first = await openMongoStore(url!, { dbName });
      await first.executions.create(anExecution());
      await first.executions.transition('exec-1', ['queued'], { status: 'running' });
      const stored = await first.events.append(anOutputEvent());
      await first.close();

      const reopened = await openMongoStore(url!, { dbName });
      expect(await reopened.executions.get('exec-1')).toEqual(anExecution({ status: 'running' }));
      expect(await reopened.events.append(anOutputEvent())).toEqual({ ...stored, duplicate: true });
      const next = await reopened.events.append(anOutputEvent({ event_id: 'event-2' }));
      expect(next.seq).toBeGreaterThan(stored.seq);
      await reopened.close();
    });

    it('stores records without leaking the server-side fields', async () => {
      const dbName = freshDatabase();
      const store = await openMongoStore(url!, { dbName });
      await store.executions.create(anExecution());
      const raw = await admin.db(dbName).collection(COLLECTIONS.executions).findOne({});
      expect(raw).toHaveProperty('_id', 'exec-1');
      expect(await store.executions.get('exec-1')).not.toHaveProperty('_id');
      await store.close();
    });

    it('forgets the transitions of a deleted execution, so its id can be used afresh', async () => {
      const dbName = freshDatabase();
      const store = await openMongoStore(url!, { dbName });
      await store.executions.create(anExecution());
      await store.executions.transition('exec-1', ['queued'], { status: 'running' });
      await store.executions.transition('exec-1', ['running'], { status: 'completed' });
      const claims = admin.db(dbName).collection(COLLECTIONS.executionClaims);
      expect(await claims.countDocuments({})).toBe(2);
      expect(await store.executions.delete('exec-1')).toBe(true);
      expect(await claims.countDocuments({})).toBe(0);
      await store.executions.create(anExecution());
      expect(await store.executions.transition('exec-1', ['queued'], { status: 'scheduled' })).toMatchObject({
        status: 'scheduled',
      });
      await store.close();
    });

    it('reads settings past a settings document left behind by a writer, and saves on from there', async () => {
      const dbName = freshDatabase();
      const store = await openMongoStore(url!, { dbName });
      expect(await store.userSettings.save(aSettingsRevision(1))).toBe(true);
      expect(await store.userSettings.save(aSettingsRevision(2))).toBe(true);
      // A writer that stored revision 3 and died before the settings document, and one that finished
      // revision 2's document write after a newer one: the document says 1, the revisions go to 3.
      await admin
        .db(dbName)
        .collection(COLLECTIONS.userSettingsRevisions)
        .insertOne({
          _id: 'user-1@3' as never,
          user_id: 'user-1',
          version: 3,
          _changed: new Date(),
          _revision: JSON.stringify(aSettingsRevision(3)),
        });
      await admin
        .db(dbName)
        .collection(COLLECTIONS.userSettings)
        .updateOne(
          { _id: 'user-1' as never },
          { $set: { version: 1, _settings: JSON.stringify(aSettingsRevision(1).settings) } },
        );
      expect(await store.userSettings.get('user-1')).toEqual(aSettingsRevision(3).settings);
      expect(await store.userSettings.save(aSettingsRevision(3))).toBe(false);
      expect(await store.userSettings.save(aSettingsRevision(4))).toBe(true);
      expect((await store.userSettings.history('user-1', 10)).map((r) => r.version)).toEqual([4, 3, 2, 1]);
      await store.close();
    });

    it('answers ping until closed', async () => {
      const store = await openMongoStore(url!, { dbName: freshDatabase() });
      await store.ping();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });

    it('fails to open when the server cannot be reached', async () => {
      const attempt = MongoClient.connect('mongodb://127.0.0.1:1/x', { serverSelectionTimeoutMS: 300 });
      await expect(attempt).rejects.toThrow();
    });
  });

  describe('under concurrency', () => {
    it('lets exactly one of many racing transitions win, every time', async () => {
      const store = await openMongoStore(url!, { dbName: freshDatabase() });
      for (let round = 0; round < 10; round++) {
        const id = `race-${round}`;
        await store.executions.create(anExecution({ execution_id: id, status: 'running' }));
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, racer) =>
            store.executions.transition(id, ['running'], { status: 'completed', exit_code: racer }),
          ),
        );
        const winners = results.filter((result) => result !== null);
        expect(winners).toHaveLength(1);
        expect((await store.executions.get(id))?.exit_code).toBe(winners[0]!.exit_code);
      }
      await store.close();
    });

    it('applies a chain of transitions racing from different stores in order', async () => {
      const dbName = freshDatabase();
      const stores = await Promise.all([openMongoStore(url!, { dbName }), openMongoStore(url!, { dbName })]);
      await stores[0]!.executions.create(anExecution());
      const steps = [
        ['queued', 'scheduled'],
        ['scheduled', 'running'],
        ['running', 'completed'],
      ] as const;
      // Each store tries every step, in order, at the same time as the other: every step happens once.
      const outcomes = await Promise.all(
        stores.map(async (store) => {
          const won: string[] = [];
          for (const [from, to] of steps) {
            for (let tries = 0; tries < 200; tries++) {
              const current = await store.executions.get('exec-1');
              if (current?.status !== from) break;
              if (await store.executions.transition('exec-1', [from], { status: to })) {
                won.push(to);
                break;
              }
            }
          }
          return won;
        }),
      );
      expect(outcomes.flat().sort()).toEqual(['completed', 'running', 'scheduled']);
      expect((await stores[0]!.executions.get('exec-1'))?.status).toBe('completed');
      await Promise.all(stores.map((store) => store.close()));
    });

    it('gives concurrent appends distinct positions and stores each event once', async () => {
      const dbName = freshDatabase();
      const stores = await Promise.all([openMongoStore(url!, { dbName }), openMongoStore(url!, { dbName })]);
      const appended = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          stores[i % 2]!.events.append(anOutputEvent({ event_id: `e-${i % 30}`, data: String(i) })),
        ),
      );
      const fresh = appended.filter((entry) => !entry.duplicate);
      expect(fresh).toHaveLength(30);
      expect(new Set(fresh.map((entry) => entry.seq)).size).toBe(30);
      const listed = await stores[0]!.events.listByAggregate('exec-1');
      expect(listed.map((entry) => entry.seq)).toEqual(fresh.map((entry) => entry.seq).sort((a, b) => a - b));
      // Positions are dense: no event can later appear below one a reader has already seen.
      expect(listed.map((entry) => entry.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      await Promise.all(stores.map((store) => store.close()));
    });

    it('keeps the position hint current: at once after a quiet spell, and within moments under load', async () => {
      const dbName = freshDatabase();
      const store = await openMongoStore(url!, { dbName });
      const hint = async () =>
        (
          await admin
            .db(dbName)
            .collection(COLLECTIONS.counters)
            .findOne({ _id: EVENT_SEQ_COUNTER as never })
        )?.seq;
      const first = await store.events.append(anOutputEvent({ event_id: 'quiet' }));
      await expect.poll(hint, { timeout: 2_000, interval: 5 }).toBe(first.seq);
      // A burst of appends one after another: the hint is written less often, but catches up.
      let last = first;
      for (let i = 0; i < 20; i++) last = await store.events.append(anOutputEvent({ event_id: `busy-${i}` }));
      await expect.poll(hint, { timeout: 2_000, interval: 5 }).toBe(last.seq);
      // Another process starts from the hint.
      const other = await openMongoStore(url!, { dbName });
      expect((await other.events.append(anOutputEvent({ event_id: 'other' }))).seq).toBe(last.seq + 1);
      await Promise.all([store.close(), other.close()]);
    });
  });
});
