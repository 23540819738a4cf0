import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../log';
import { describeFanoutContract } from './fanout.contract';
import { executionChannel } from './port';
import { RedisFanout } from './redis';

const url = process.env.INTEGR8S_REDIS_URL;
if (!url) console.log('INTEGR8S_REDIS_URL is not set: skipping the Redis fan-out tests');
const redisServerOnPath = spawnSync('redis-server', ['--version']).status === 0;
if (url && !redisServerOnPath) console.log('redis-server is not on PATH: skipping the Redis restart test');

const silent = createLogger('silent');
/** Every fan-out of this run publishes under its own prefix, so runs sharing a Redis do not collide. */
const runPrefix = `test:fanout:${randomUUID()}:`;
let instances = 0;
const freshPrefix = () => `${runPrefix}${++instances}:`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(assertion: () => void | Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(10);
    }
  }
}

/** A logger that keeps its records, to check what the fan-out reports. */
function recordingLogger(): { logger: Logger; records: { level: string; msg: string; fields?: object }[] } {
  const records: { level: string; msg: string; fields?: object }[] = [];
  const logger: Logger = {
    debug: (msg, fields) => records.push({ level: 'debug', msg, fields }),
    info: (msg, fields) => records.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => records.push({ level: 'warn', msg, fields }),
    error: (msg, fields) => records.push({ level: 'error', msg, fields }),
    child: () => logger,
  };
  return { logger, records };
}

/** Subscription counts per connection of this fan-out, read from CLIENT LIST (`sub=` per client). */
async function subscriberConnections(raw: Redis): Promise<{ name: string; sub: number }[]> {
  const list = await raw.client('LIST');
  return String(list)
    .trim()
    .split('\n')
    .map((line) => Object.fromEntries(line.split(' ').map((pair) => pair.split('=', 2) as [string, string])))
    .filter((client) => client.name?.startsWith('integr8s-fanout'))
    .map((client) => ({ name: client.name!, sub: Number(client.sub) }));
}

describe.skipIf(!url)('RedisFanout', () => {
  let raw: Redis;
  beforeAll(() => {
    raw = new Redis(url!);
  });
  afterAll(async () => {
    await raw.quit();
  });

  describeFanoutContract(
    'redis',
    async () => new RedisFanout(url!, { channelPrefix: freshPrefix(), logger: silent }),
  );

  it('uses one publisher and one subscriber connection, and one Redis subscription per channel', async () => {
    const baseline = (await subscriberConnections(raw)).length;
    const prefix = freshPrefix();
    const fanout = new RedisFanout(url!, { channelPrefix: prefix, logger: silent });
    try {
      const unsubscribes = [];
      for (let channel = 0; channel < 10; channel++) {
        for (let i = 0; i < 20; i++) unsubscribes.push(await fanout.subscribe(`c${channel}`, () => {}));
      }
      const connections = await subscriberConnections(raw);
      expect(connections).toHaveLength(baseline + 2);
      const numsub = (await raw.pubsub('NUMSUB', `${prefix}c0`, `${prefix}c9`)) as (string | number)[];
      expect(numsub.map(String)).toEqual([`${prefix}c0`, '1', `${prefix}c9`, '1']);
      expect(fanout.channelCount).toBe(10);

      // The last local subscriber of a channel leaving unsubscribes it in Redis.
      for (const unsubscribe of unsubscribes.slice(0, 19)) await unsubscribe();
      expect(await raw.pubsub('NUMSUB', `${prefix}c0`)).toEqual([`${prefix}c0`, 1]);
      await unsubscribes[19]!();
      expect(await raw.pubsub('NUMSUB', `${prefix}c0`)).toEqual([`${prefix}c0`, 0]);
      for (const unsubscribe of unsubscribes) await unsubscribe();
      expect(await raw.pubsub('CHANNELS', `${prefix}*`)).toEqual([]);
      expect(fanout.channelCount).toBe(0);
    } finally {
      await fanout.close();
    }
  });

  it('resolves subscribe only once Redis has the subscription', async () => {
    const prefix = freshPrefix();
    const fanout = new RedisFanout(url!, { channelPrefix: prefix, logger: silent });
    try {
      // Several subscribers racing for a new channel share its one SUBSCRIBE.
      await Promise.all(Array.from({ length: 5 }, () => fanout.subscribe(executionChannel('e1'), () => {})));
      expect(await raw.pubsub('NUMSUB', `${prefix}sse:exec:e1`)).toEqual([`${prefix}sse:exec:e1`, 1]);
      // So a message published from anywhere right afterwards is received.
      const received: string[] = [];
      await fanout.subscribe(executionChannel('e2'), (message) => received.push(message));
      await raw.publish(`${prefix}sse:exec:e2`, '{"type":"status"}');
      await eventually(() => expect(received).toEqual(['{"type":"status"}']));
    } finally {
      await fanout.close();
    }
  });

  it('reports a throwing subscriber to the log with its channel', async () => {
    const { logger, records } = recordingLogger();
    const fanout = new RedisFanout(url!, { channelPrefix: freshPrefix(), logger });
    try {
      await fanout.subscribe('c', () => {
        throw new Error('boom');
      });
      await fanout.publish('c', 'm');
      await eventually(() =>
        expect(records).toContainEqual({
          level: 'error',
          msg: 'fan-out subscriber failed',
          fields: { channel: 'c', error: expect.objectContaining({ message: 'boom' }) },
        }),
      );
    } finally {
      await fanout.close();
    }
  });

  it('delivers one message to 5,000 subscribers of one channel', async () => {
    const fanout = new RedisFanout(url!, { channelPrefix: freshPrefix(), logger: silent });
    try {
      const counts = new Array<number>(5_000).fill(0);
      const subscribeStarted = performance.now();
      for (let i = 0; i < counts.length; i++) await fanout.subscribe('busy', () => counts[i]!++);
      const subscribeMs = performance.now() - subscribeStarted;
      const publishStarted = performance.now();
      await fanout.publish('busy', '{"seq":1}');
      await eventually(() => expect(counts.every((count) => count === 1)).toBe(true), 10_000);
      const deliveryMs = performance.now() - publishStarted;
      console.log(
        `redis fan-out: 5,000 subscribers subscribed in ${subscribeMs.toFixed(1)} ms; ` +
          `one message reached all of them ${deliveryMs.toFixed(1)} ms after publish`,
      );
    } finally {
      await fanout.close();
    }
  });

  it('carries messages between two fan-outs, as between two processes', async () => {
    const prefix = freshPrefix();
    const api = new RedisFanout(url!, { channelPrefix: prefix, logger: silent });
    const worker = new RedisFanout(url!, { channelPrefix: prefix, logger: silent });
    try {
      const onApi: string[] = [];
      const onWorker: string[] = [];
      await api.subscribe('sse:notif:u1', (message) => onApi.push(message));
      await worker.subscribe('sse:notif:u1', (message) => onWorker.push(message));
      await worker.publish('sse:notif:u1', 'from worker');
      await api.publish('sse:notif:u1', 'from api');
      await eventually(() => {
        expect(onApi).toEqual(['from worker', 'from api']);
        expect(onWorker).toEqual(['from worker', 'from api']);
      });
    } finally {
      await api.close();
      await worker.close();
    }
  });

  it('keeps prefixes apart', async () => {
    const one = new RedisFanout(url!, { channelPrefix: freshPrefix(), logger: silent });
    const two = new RedisFanout(url!, { channelPrefix: freshPrefix(), logger: silent });
    try {
      const received: string[] = [];
      await one.subscribe('c', (message) => received.push(`one:${message}`));
      await two.subscribe('c', (message) => received.push(`two:${message}`));
      await one.publish('c', 'a');
      await two.publish('c', 'b');
      await eventually(() => expect(received.sort()).toEqual(['one:a', 'two:b']));
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('is ready when Redis answers and fails fast when it does not', async () => {
    const fanout = new RedisFanout(url!, { channelPrefix: freshPrefix(), logger: silent });
    const dead = new RedisFanout('redis://127.0.0.1:1', { logger: silent });
    try {
      await expect(fanout.ready()).resolves.toBeUndefined();
      const started = Date.now();
      await expect(dead.ready()).rejects.toThrow();
      await expect(dead.subscribe('c', () => {})).rejects.toThrow();
      await expect(dead.publish('c', 'm')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5000);
      // A failed subscribe leaves nothing behind.
      expect(dead.channelCount).toBe(0);
    } finally {
      await fanout.close();
      await dead.close();
    }
  });

  it('refuses subscriptions and delivers nothing once closed', async () => {
    const fanout = new RedisFanout(url!, { channelPrefix: freshPrefix(), logger: silent });
    await fanout.subscribe('c', () => {});
    await fanout.close();
    await expect(fanout.subscribe('c', () => {})).rejects.toThrow(/closed/);
    await expect(fanout.publish('c', 'late')).resolves.toBeUndefined();
    await expect(fanout.close()).resolves.toBeUndefined();
  });
});

/** Asks the OS for a free loopback port. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A throwaway redis-server on loopback, which the test may shut down and start again on the same port. */
class OwnRedis {
  private process: ChildProcess | null = null;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await eventually(async () => {
      const probe = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
      } finally {
        probe.disconnect();
      }
    }, 10_000);
  }

  async shutdown(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const admin = new Redis(this.url, { retryStrategy: () => null });
    admin.on('error', () => {});
    // The server closes the connection instead of replying.
    await admin.call('SHUTDOWN', 'NOSAVE').catch(() => {});
    admin.disconnect();
    await exited;
    this.process = null;
  }

  kill(): void {
    this.process?.kill('SIGKILL');
    this.process = null;
  }
}

describe.skipIf(!url || !redisServerOnPath)('RedisFanout across a Redis restart', () => {
  let server: OwnRedis;
  beforeAll(async () => {
    server = new OwnRedis(await freePort());
    await server.start();
  });
  afterAll(() => server.kill());

  it('re-subscribes every live channel after redis-server restarts, and logs it', async () => {
    const { logger, records } = recordingLogger();
    const fanout = new RedisFanout(server.url, { logger });
    const publisher = new RedisFanout(server.url, { logger: silent });
    try {
      const received: string[] = [];
      let gaps = 0;
      await fanout.subscribe(
        'sse:exec:long',
        (message) => received.push(message),
        () => gaps++,
      );
      const leaving = await fanout.subscribe('sse:exec:left', () => {});
      await leaving();
      await publisher.publish('sse:exec:long', 'before');
      await eventually(() => expect(received).toEqual(['before']));

      await server.shutdown();
      await server.start();
      const restartedAt = performance.now();

      // Publish until the subscription is back: messages published before that are lost, as pub/sub does.
      let seq = 0;
      await eventually(async () => {
        await publisher.publish('sse:exec:long', `after-${++seq}`).catch(() => {});
        expect(received.some((message) => message.startsWith('after-'))).toBe(true);
      }, 5000);
      console.log(
        `redis fan-out: subscription delivering again ${(performance.now() - restartedAt).toFixed(0)} ms ` +
          'after redis-server was back',
      );

      expect(records).toContainEqual(
        expect.objectContaining({ level: 'info', msg: 'fan-out re-subscribed after reconnect' }),
      );
      const resubscribed = records.find((record) => record.msg === 'fan-out re-subscribed after reconnect');
      // Only the channel that still has a subscriber, which hears that it may have missed messages.
      expect(resubscribed?.fields).toMatchObject({ channels: 1 });
      expect(gaps).toBe(1);
      expect(records).toContainEqual(
        expect.objectContaining({ level: 'warn', msg: 'redis connection lost, reconnecting' }),
      );
      // Its publisher connection, idle during the outage, may still be waiting for its next attempt.
      await eventually(() => expect(fanout.ready()).resolves.toBeUndefined(), 5000);
    } finally {
      await fanout.close();
      await publisher.close();
    }
  });

  it('replaces a subscriber connection that stopped answering, and re-subscribes', async () => {
    const { logger, records } = recordingLogger();
    const fanout = new RedisFanout(server.url, { logger, heartbeatMs: 200 });
    const publisher = new RedisFanout(server.url, { logger: silent });
    const admin = new Redis(server.url);
    try {
      const received: string[] = [];
      await fanout.subscribe('sse:exec:quiet', (message) => received.push(message));
      // The server stops answering every client for a while, like a peer that vanished without a word.
      await admin.call('CLIENT', 'PAUSE', '4500', 'ALL');
      await eventually(
        () =>
          expect(records).toContainEqual(
            expect.objectContaining({ level: 'warn', msg: 'redis connection does not answer, replacing it' }),
          ),
        6000,
      );
      await eventually(async () => {
        await publisher.publish('sse:exec:quiet', 'still there').catch(() => {});
        expect(received).toContain('still there');
      }, 8000);
      expect(records).toContainEqual(
        expect.objectContaining({ msg: 'fan-out re-subscribed after reconnect', fields: expect.anything() }),
      );
    } finally {
      admin.disconnect();
      await fanout.close();
      await publisher.close();
    }
  });

  it('fails fast while redis-server is down, then re-subscribes thousands of channels', async () => {
    const { logger, records } = recordingLogger();
    const fanout = new RedisFanout(server.url, { logger });
    const publisher = new RedisFanout(server.url, { logger: silent });
    try {
      const channels = Array.from({ length: 2_500 }, (_, i) => executionChannel(`e${i}`));
      const received = new Map<string, string[]>();
      for (const channel of channels) {
        received.set(channel, []);
        await fanout.subscribe(channel, (message) => received.get(channel)!.push(message));
      }

      await server.shutdown();
      const downAt = Date.now();
      await expect(fanout.ready()).rejects.toThrow();
      await expect(publisher.publish(channels[0]!, 'lost')).rejects.toThrow();
      await expect(fanout.subscribe('sse:exec:new', () => {})).rejects.toThrow();
      expect(Date.now() - downAt).toBeLessThan(3000);
      // The failed subscription left nothing behind; the live ones are kept for re-subscribing.
      expect(fanout.channelCount).toBe(channels.length);

      await server.start();
      await eventually(() => expect(fanout.ready()).resolves.toBeUndefined(), 5000);
      await eventually(() =>
        expect(records).toContainEqual(
          expect.objectContaining({
            msg: 'fan-out re-subscribed after reconnect',
            fields: expect.anything(),
          }),
        ),
      );
      expect(
        records.find((record) => record.msg === 'fan-out re-subscribed after reconnect')?.fields,
      ).toMatchObject({ channels: channels.length });
      await eventually(() => expect(publisher.ready()).resolves.toBeUndefined(), 5000);
      for (const channel of channels) await publisher.publish(channel, `back:${channel}`);
      await eventually(() => {
        for (const channel of channels) expect(received.get(channel)).toEqual([`back:${channel}`]);
      });
    } finally {
      await fanout.close();
      await publisher.close();
    }
  });
});
