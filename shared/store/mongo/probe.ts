/**
 * Asks a MongoDB-wire server which of the features this adapter could use it really has, and prints
 * one line per feature. The adapter's choices (see README.md) follow from these answers on FerretDB.
 * Run: INTEGR8S_MONGO_URL=mongodb://127.0.0.1:27018/test npx tsx shared/store/mongo/probe.ts
 */
import { randomUUID } from 'node:crypto';
import { type Db, MongoClient } from 'mongodb';

const RACERS = 8;
const ROUNDS = 30;

type Probe = (db: Db) => Promise<string>;

const describeError = (error: unknown): string => {
  const { code, codeName, message } = error as { code?: unknown; codeName?: unknown; message?: string };
  return `refused (${String(code)} ${String(codeName)}): ${message?.split('\n')[0]}`;
};

const probes: Record<string, Probe> = {
  async 'case-insensitive collation index'(db) {
    await db
      .collection('collation')
      .createIndex({ name: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });
    await db.collection('collation').insertOne({ name: 'Ada' });
    try {
      await db.collection('collation').insertOne({ name: 'ADA' });
      return 'accepted, but a differently cased duplicate was inserted';
    } catch {
      return 'works';
    }
  },
  async 'TTL index (expireAfterSeconds)'(db) {
    await db.collection('ttl').createIndex({ at: 1 }, { expireAfterSeconds: 0 });
    const indexes = await db.collection('ttl').indexes();
    const ttl = indexes.find((index) => index.name === 'at_1');
    return ttl?.expireAfterSeconds === 0
      ? 'works (index listed with expireAfterSeconds)'
      : 'accepted, option lost';
  },
  async 'unique compound index'(db) {
    const collection = db.collection('unique');
    await collection.createIndex({ a: 1, b: 1 }, { unique: true });
    await collection.insertOne({ a: 1, b: 1 });
    await collection.insertOne({ a: 1, b: 2 });
    try {
      await collection.insertOne({ a: 1, b: 1 });
      return 'NOT enforced';
    } catch (error) {
      return `enforced, code ${String((error as { code?: number }).code)}`;
    }
  },
  async 'guarded findOneAndUpdate is atomic under a race'(db) {
    const collection = db.collection('race');
    let doubleWins = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await collection.insertOne({ _id: round as never, status: 'running' });
      const results = await Promise.all(
        Array.from({ length: RACERS }, (_, racer) =>
          collection.findOneAndUpdate(
            { _id: round as never, status: { $in: ['running'] } },
            { $set: { status: `done-${racer}` } },
            { returnDocument: 'after' },
          ),
        ),
      );
      if (results.filter((result) => result !== null).length !== 1) doubleWins++;
    }
    return doubleWins === 0
      ? `works (${ROUNDS} rounds of ${RACERS})`
      : `BROKEN: ${doubleWins}/${ROUNDS} rounds had several winners`;
  },
  async '$inc upsert counter is atomic under a race'(db) {
    const collection = db.collection('counter');
    const values = await Promise.all(
      Array.from({ length: RACERS * ROUNDS }, () =>
        collection.findOneAndUpdate(
          { _id: 'c' as never },
          { $inc: { seq: 1 } },
          { upsert: true, returnDocument: 'after' },
        ),
      ),
    );
    const seqs = values.map((value) => value?.seq as number);
    const distinct = new Set(seqs).size;
    return distinct === seqs.length
      ? `works (${seqs.length} distinct values)`
      : `BROKEN: ${seqs.length - distinct} repeated values`;
  },
  async 'exact round trip of numbers and strings'(db) {
    const document = {
      _id: 'exact',
      nul: 'a\u0000b',
      unicode: 'ünïcödé ✓',
      sum: 0.1 + 0.2,
      big: Number.MAX_SAFE_INTEGER,
      tiny: 1e-7,
      negative: -1,
      nothing: null,
      nested: { list: [1, 'two', null, { three: 3 }] },
    };
    await db.collection('exact').insertOne(document as never);
    const back = await db.collection('exact').findOne({ _id: 'exact' as never });
    return JSON.stringify(back) === JSON.stringify(document) ? 'works' : `differs: ${JSON.stringify(back)}`;
  },
  async 'update with an aggregation pipeline'(db) {
    const collection = db.collection('pipeline');
    await collection.insertOne({ _id: 'p' as never, read_at: null });
    await collection.updateOne({ _id: 'p' as never }, [
      { $set: { read_at: { $ifNull: ['$read_at', 'now'] } } },
    ]);
    return 'works';
  },
  async 'multi-document transactions'(db) {
    const session = db.client.startSession();
    try {
      await session.withTransaction(async () => {
        await db.collection('transaction').insertOne({ x: 1 }, { session });
      });
      return 'works';
    } finally {
      await session.endSession();
    }
  },
  async 'anchored $regex on array elements'(db) {
    const collection = db.collection('regex');
    await collection.insertMany([{ tags: ['exec.done'] }, { tags: ['execXdone'] }]);
    const found = await collection.countDocuments({ tags: { $regex: /^exec\./ } });
    return found === 1 ? 'works' : `matched ${found}`;
  },
  async 'compound sort served by an index (explain)'(db) {
    const collection = db.collection('sorted');
    await collection.createIndex({ user: 1, at: -1, id: -1 });
    await collection.insertMany(
      Array.from({ length: 100 }, (_, i) => ({ user: `u${i % 5}`, at: new Date(i), id: `${i}` })),
    );
    const plan = await collection.find({ user: 'u1' }).sort({ at: -1, id: -1 }).limit(5).explain();
    return JSON.stringify(plan).slice(0, 400);
  },
};

const url = process.env.INTEGR8S_MONGO_URL;
if (!url) {
  console.error('set INTEGR8S_MONGO_URL to the server to probe');
  process.exit(2);
}
const client = await new MongoClient(url, { serverSelectionTimeoutMS: 5000 }).connect();
const db = client.db(`probe_${randomUUID().replaceAll('-', '')}`);
try {
  const build = await db.admin().command({ buildInfo: 1 });
  console.log(
    `server reports version ${String(build.version)}${build.ferretdbVersion ? ` (FerretDB ${String(build.ferretdbVersion)})` : ''}`,
  );
  for (const [name, probe] of Object.entries(probes)) {
    const outcome = await probe(db).catch(describeError);
    console.log(`${name.padEnd(50)} ${outcome}`);
  }
} finally {
  await db.dropDatabase();
  await client.close();
}
