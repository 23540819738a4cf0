/**
 * What Knative's KafkaSource data plane does, for stack mode and tests: one consumer group per source,
 * each record POSTed to the sink as a binary-mode CloudEvent, with KafkaSource's `ordered` rules.
 *
 * - Ordered per partition: a record blocks its partition until it is acked or dead-lettered, retries and
 *   backoff included; partitions run in parallel. Fetching goes on for the other partitions (kafkajs
 *   fetches again only after its handler returns, so records are queued per partition here, and a
 *   partition whose queue is full is paused, as Knative pauses busy partitions).
 * - Offsets are committed only after a record is acked or dead-lettered, so a dispatcher that dies
 *   mid-delivery leaves the record to be delivered again (at-least-once; sinks are idempotent).
 * - Dead letters go to the DeadLetterRepository (what the admin pages read) and to the dead-letter topic
 *   with the delivered CloudEvent's headers plus Knative's `knativeerror*` extensions.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type KafkaMessage,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { DEAD_LETTER_TOPIC, NAMESPACE } from '../../../knative/manifests';
import { safeParseDomainEvent } from '../../events/schemas';
import type { Logger } from '../../log';
import type { DeadLetter, DeadLetterRepository } from '../../store/ports';
import {
  type AttemptResult,
  attemptDelivery,
  backoffMs,
  classifyDelivery,
  describeFailure,
} from '../delivery';
import type { DeliveryPolicy } from '../port';
import { deadLetterExtensions, recordToRequest, requestToHeaders, type SourceIdentity } from './binding';
import { createKafka, type KafkaConnection } from './client';

/** A KafkaSource: what it consumes, how it retries, and the sink it delivers to. */
export interface KafkaSourceDefinition {
  /** Names the subscriber in dead letters and the KafkaSource in wrapped records. */
  name: string;
  consumerGroup: string;
  /** Topic names as in the manifest (the dispatcher's `topicPrefix` is added). */
  topics: readonly string[];
  delivery: DeliveryPolicy;
  /** The URL requests are addressed to; `http://<name>.local/` when not given. */
  url?: string;
  deliver(request: Request): Promise<Response>;
}

export interface KafkaSourceDispatcherOptions extends KafkaConnection {
  sources: readonly KafkaSourceDefinition[];
  deadLetters: DeadLetterRepository;
  /** Prepended to every topic name, the dead-letter topic's included. */
  topicPrefix?: string;
  deadLetterTopic?: string;
  /** KafkaSource `initialOffset` for a group without committed offsets. */
  initialOffset?: 'earliest' | 'latest';
  /** Records fetched ahead per partition before the partition is paused. */
  maxQueuedPerPartition?: number;
  /** kafkajs long-poll wait; also how late a resumed partition may be fetched again. */
  maxWaitTimeInMs?: number;
  sessionTimeoutMs?: number;
  /** How long `stop()` lets deliveries under way finish before leaving them for redelivery. */
  stopGraceMs?: number;
}

type Outcome = 'done' | 'abandoned';

const DEAD_LETTER_RETRY_MS = { first: 100, max: 30_000 };
const COMMIT_RETRY_MS = 200;
const DEAD_LETTER_PRODUCE_TIMEOUT_MS = 10_000;

interface Lane {
  topic: string;
  partition: number;
  queue: KafkaMessage[];
  /** Offset after the last record taken into the queue; refetched records below it are skipped. */
  nextOffset: number | null;
  /** Offset after the last record acked or dead-lettered. */
  finished: number | null;
  /** Offset known to be committed for the group. */
  committed: number | null;
  running: boolean;
  paused: boolean;
  /** Set when the partition is taken away in a rebalance: the lane stops and commits nothing more. */
  revoked: boolean;
}

const laneKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** One KafkaSource: its consumer group, partition lanes and offset commits. */
class SourceRunner {
  readonly topics: string[];
  readonly url: string;
  readonly identity: SourceIdentity;
  private readonly consumer: Consumer;
  private readonly lanes = new Map<string, Lane>();
  private readonly toCommit = new Map<string, Lane>();
  private committing: Promise<void> | null = null;
  private joined: () => void = () => {};
  private failed: (error: Error) => void = () => {};
  private readonly joinedOnce: Promise<void>;
  private running = false;
  private stopped = false;
  private hasJoined = false;
  /** Aborted by `stop()` once its grace period is over: attempts and backoffs end, records stay uncommitted. */
  readonly abandon = new AbortController();
  private readonly log: Logger;

  constructor(
    readonly source: KafkaSourceDefinition,
    private readonly dispatcher: KafkaSourceDispatcher,
    kafka: Kafka,
    private readonly settings: Required<
      Pick<
        KafkaSourceDispatcherOptions,
        'topicPrefix' | 'initialOffset' | 'maxQueuedPerPartition' | 'maxWaitTimeInMs' | 'sessionTimeoutMs'
      >
    >,
    log: Logger,
  ) {
    this.topics = source.topics.map((topic) => `${settings.topicPrefix}${topic}`);
    this.url = source.url ?? `http://${source.name}.local/`;
    this.identity = { name: source.name, namespace: NAMESPACE };
    this.log = log.child({ subscriber: source.name });
    this.consumer = kafka.consumer({
      groupId: source.consumerGroup,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: settings.maxWaitTimeInMs,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(settings.sessionTimeoutMs / 5)),
    });
    this.joinedOnce = new Promise((resolve, reject) => {
      this.joined = resolve;
      this.failed = reject;
    });
    this.joinedOnce.catch(() => {});
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      this.hasJoined = true;
      this.onAssignment(event.payload.memberAssignment);
      this.joined();
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.log.error('Kafka consumer crashed', { error, restart });
      if (restart) return;
      if (!this.hasJoined) this.failed(error);
      // kafkajs gives up for good on some errors a broker restart causes (no group coordinator yet), where
      // KafkaSource's adapter would go on consuming: so does this one.
      else void this.restartAfterCrash();
    });
  }

  async start(): Promise<void> {
    this.running = true;
    await this.connectAndRun();
    await this.joinedOnce;
  }

  private async connectAndRun(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.topics,
      fromBeginning: this.settings.initialOffset === 'earliest',
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async (payload) => this.accept(payload),
    });
  }

  /**
   * Starts consuming again after kafkajs stopped for good. The partitions held are let go first: their
   * records come again from the last commit, and the sinks answer the ones they took as duplicates.
   */
  private async restartAfterCrash(): Promise<void> {
    try {
      this.onAssignment({});
    } catch (error) {
      this.log.warn('letting go of the partitions after a crash failed', { error });
    }
    for (let attempt = 1; this.running && !this.stopped; attempt++) {
      await sleep(Math.min(attempt, 5) * 1000);
      if (!this.running || this.stopped) return;
      try {
        await this.consumer.disconnect().catch(() => {});
        await this.connectAndRun();
        this.log.warn('Kafka consumer restarted after a crash', { attempt });
        return;
      } catch (error) {
        this.log.warn('Kafka consumer restart failed; trying again', { attempt, error });
      }
    }
  }

  /** Stops fetching, waits `graceMs` for lanes to finish, abandons the rest, commits, disconnects. */
  async stop(graceMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    for (const lane of this.lanes.values()) lane.queue.splice(1);
    const idle = this.whenIdle();
    const bound = new AbortController();
    await Promise.race([idle, sleep(graceMs, undefined, { signal: bound.signal }).catch(() => {})]);
    bound.abort();
    this.abandon.abort();
    await idle;
    await this.flushCommits();
    await this.consumer.disconnect();
  }

  /** True when every record up to `targets` (next offsets per partition) is committed by this source. */
  async reached(targets: Map<string, number>, committedByGroup: () => Promise<Map<string, number>>) {
    let group: Map<string, number> | null = null;
    for (const topic of this.topics) {
      for (const [key, high] of targets) {
        if (!key.startsWith(`${topic}\u0000`)) continue;
        const lane = this.lanes.get(key);
        if (lane) {
          // A partition this member works on: its own commits tell, and each one wakes the check.
          if ((lane.committed ?? -1) >= high) continue;
          return false;
        }
        group ??= await committedByGroup();
        if ((group.get(key) ?? -1) >= high) continue;
        return false;
      }
    }
    return true;
  }

  get groupId(): string {
    return this.source.consumerGroup;
  }

  /** Takes a fetched batch into the partition's lane; returns at once so fetching continues. */
  private accept({ batch }: EachBatchPayload): void {
    if (!this.running) return;
    const key = laneKey(batch.topic, batch.partition);
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = {
        topic: batch.topic,
        partition: batch.partition,
        queue: [],
        nextOffset: null,
        finished: null,
        committed: null,
        running: false,
        paused: false,
        revoked: false,
      };
      this.lanes.set(key, lane);
    }
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (lane.nextOffset !== null && offset < lane.nextOffset) continue;
      lane.queue.push(message);
      lane.nextOffset = offset + 1;
    }
    if (lane.queue.length >= this.settings.maxQueuedPerPartition && !lane.paused) {
      lane.paused = true;
      this.consumer.pause([{ topic: lane.topic, partitions: [lane.partition] }]);
    }
    if (!lane.running && lane.queue.length > 0) void this.runLane(lane);
  }

  private async runLane(lane: Lane): Promise<void> {
    lane.running = true;
    try {
      while (lane.queue.length > 0 && !lane.revoked) {
        const message = lane.queue[0]!;
        const outcome = await this.deliver(lane, message);
        if (outcome === 'abandoned' || lane.revoked) break;
        lane.queue.shift();
        lane.finished = Number(message.offset) + 1;
        this.scheduleCommit(lane);
        if (lane.paused && lane.queue.length <= this.settings.maxQueuedPerPartition / 2 && this.running) {
          lane.paused = false;
          this.consumer.resume([{ topic: lane.topic, partitions: [lane.partition] }]);
        }
      }
    } catch (error) {
      // deliver() handles every failure; reaching this is a bug, and the record stays uncommitted.
      this.log.error('dispatcher lane failed', { error, topic: lane.topic, partition: lane.partition });
    } finally {
      lane.running = false;
      this.dispatcher.progressed();
    }
  }

  /** Attempts until acked; otherwise dead-letters. 'abandoned' when the dispatcher stopped first. */
  private async deliver(lane: Lane, message: KafkaMessage): Promise<Outcome> {
    const policy = this.source.delivery;
    const record = { topic: lane.topic, partition: lane.partition, message };
    for (let attempt = 0; ; attempt++) {
      if (this.abandon.signal.aborted || lane.revoked) return 'abandoned';
      const abort = new AbortController();
      const request = recordToRequest(record, this.url, this.identity, abort.signal);
      const result = await this.attempt(request, abort, policy.timeoutMs);
      const outcome = classifyDelivery(result);
      if (outcome === 'ack') return 'done';
      if (this.abandon.signal.aborted) return 'abandoned';
      const reason = describeFailure(result, this.source.name, policy.timeoutMs);
      const attempts = attempt + 1;
      if (outcome === 'dead-letter') {
        return this.deadLetter(lane, message, request.headers, attempts, reason, result);
      }
      if (attempt >= policy.retry) {
        const exhausted = `retries exhausted after ${attempts} attempts: ${reason}`;
        return this.deadLetter(lane, message, request.headers, attempts, exhausted, result);
      }
      const delayMs = backoffMs(policy, attempt);
      this.log.warn('delivery failed; will retry', {
        topic: lane.topic,
        partition: lane.partition,
        offset: message.offset,
        attempts,
        delay_ms: delayMs,
        reason,
      });
      await sleep(delayMs, undefined, { signal: this.abandon.signal }).catch(() => {});
    }
  }

  /** One POST, cut off by the per-attempt timeout or when the dispatcher abandons deliveries. */
  private attempt(request: Request, abort: AbortController, timeoutMs: number): Promise<AttemptResult> {
    return attemptDelivery((r) => this.source.deliver(r), request, abort, timeoutMs, {
      signal: this.abandon.signal,
      reason: 'dispatcher stopped',
    });
  }

  /** Stores the dead letter (retrying until it is stored) and produces it to the dead-letter topic. */
  private async deadLetter(
    lane: Lane,
    message: KafkaMessage,
    delivered: Headers,
    attempts: number,
    error: string,
    last: AttemptResult,
  ): Promise<Outcome> {
    const raw = message.value?.toString('utf8') ?? '';
    const parsed = safeParseDomainEvent(safeJson(raw));
    const event = parsed.ok ? parsed.event : null;
    const ce = requestToHeaders(delivered);
    const letter: DeadLetter = {
      dead_letter_id: randomUUID(),
      subscriber: this.source.name,
      event,
      raw: event ? null : raw,
      event_type: event?.event_type ?? ce.ce_type ?? '',
      event_id: event?.event_id ?? ce.ce_id ?? '',
      error,
      attempts,
      created_at: new Date().toISOString(),
    };
    this.log.warn('event dead-lettered', {
      event_id: letter.event_id,
      event_type: letter.event_type,
      topic: lane.topic,
      partition: lane.partition,
      offset: message.offset,
      attempts,
      error,
    });
    for (let failures = 0; ; failures++) {
      try {
        await this.dispatcher.deadLetters.add(letter);
        break;
      } catch (writeError) {
        if (this.abandon.signal.aborted) {
          this.log.error('could not store dead letter before stopping; the record will be redelivered', {
            error: writeError,
            event_id: letter.event_id,
          });
          return 'abandoned';
        }
        this.log.error('could not store dead letter; retrying', {
          error: writeError,
          event_id: letter.event_id,
        });
        const delay = Math.min(DEAD_LETTER_RETRY_MS.first * 2 ** failures, DEAD_LETTER_RETRY_MS.max);
        await sleep(delay, undefined, { signal: this.abandon.signal }).catch(() => {});
      }
    }
    const failure =
      'status' in last
        ? { url: this.url, status: last.status, body: last.body }
        : { url: this.url, body: error };
    await this.dispatcher.produceDeadLetter({
      key: message.key,
      value: message.value,
      headers: { ...ce, ...deadLetterExtensions(failure) },
    });
    return 'done';
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    for (const [key, lane] of this.lanes) {
      if (assignment[lane.topic]?.includes(lane.partition)) continue;
      lane.revoked = true;
      lane.queue.length = 0;
      this.lanes.delete(key);
      this.toCommit.delete(key);
      // kafkajs keeps a pause across rebalances: lift it, or the partition would stay silent if it came back.
      if (lane.paused) this.consumer.resume([{ topic: lane.topic, partitions: [lane.partition] }]);
    }
    this.dispatcher.progressed();
  }

  private scheduleCommit(lane: Lane): void {
    this.toCommit.set(laneKey(lane.topic, lane.partition), lane);
    this.committing ??= this.commitLoop().finally(() => {
      this.committing = null;
    });
  }

  /** Commits finished offsets, coalescing while a commit is under way; one commit request at a time. */
  private async commitLoop(): Promise<void> {
    while (this.toCommit.size > 0) {
      const batch = [...this.toCommit.values()].filter((lane) => !lane.revoked && lane.finished !== null);
      this.toCommit.clear();
      const offsets = batch.map((lane) => ({ lane, offset: lane.finished! }));
      try {
        await this.consumer.commitOffsets(
          offsets.map(({ lane, offset }) => ({
            topic: lane.topic,
            partition: lane.partition,
            offset: String(offset),
          })),
        );
        for (const { lane, offset } of offsets) lane.committed = Math.max(lane.committed ?? -1, offset);
        this.dispatcher.progressed();
      } catch (error) {
        this.log.warn('offset commit failed; will retry', { error });
        for (const { lane } of offsets) {
          if (!lane.revoked) this.toCommit.set(laneKey(lane.topic, lane.partition), lane);
        }
        await sleep(COMMIT_RETRY_MS);
        if (this.abandon.signal.aborted && !this.running) return;
      }
    }
  }

  private async flushCommits(): Promise<void> {
    while (this.committing) await this.committing;
  }

  private whenIdle(): Promise<void> {
    return this.dispatcher.until(() => [...this.lanes.values()].every((lane) => !lane.running));
  }
}

/**
 * Runs KafkaSources against a real broker. `start()` resolves once every consumer group is joined;
 * `drain()` once everything in the sources' topics at call time is committed by every source.
 */
export class KafkaSourceDispatcher {
  readonly deadLetters: DeadLetterRepository;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly producer: Producer;
  private readonly runners: SourceRunner[];
  private readonly deadLetterTopic: string;
  private readonly stopGraceMs: number;
  private readonly log: Logger;
  private waiters: (() => void)[] = [];
  private state: 'new' | 'running' | 'stopped' = 'new';

  constructor(options: KafkaSourceDispatcherOptions) {
    this.deadLetters = options.deadLetters;
    this.log = options.log.child({ component: 'kafka-source-dispatcher' });
    this.kafka = createKafka({ ...options, clientId: options.clientId ?? 'integr8scode-dispatcher' });
    this.admin = this.kafka.admin();
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    const topicPrefix = options.topicPrefix ?? '';
    this.deadLetterTopic = `${topicPrefix}${options.deadLetterTopic ?? DEAD_LETTER_TOPIC}`;
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    const settings = {
      topicPrefix,
      initialOffset: options.initialOffset ?? 'earliest',
      maxQueuedPerPartition: options.maxQueuedPerPartition ?? 100,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 500,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    } as const;
    const names = new Set<string>();
    this.runners = options.sources.map((source) => {
      if (names.has(source.consumerGroup))
        throw new Error(`two sources share consumer group ${source.consumerGroup}`);
      names.add(source.consumerGroup);
      return new SourceRunner(source, this, this.kafka, settings, this.log);
    });
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`dispatcher cannot start: it is ${this.state}`);
    this.state = 'running';
    await Promise.all([this.admin.connect(), this.producer.connect()]);
    await Promise.all(this.runners.map((runner) => runner.start()));
  }

  /** Resolves when every record now in the sources' topics has been acked or dead-lettered and committed. */
  async drain(): Promise<void> {
    if (this.state !== 'running') return;
    const targets = await this.highWatermarks();
    for (const runner of this.runners) {
      const committed = () => this.groupOffsets(runner.groupId, runner.topics);
      // Local progress wakes the check at once; other group members' progress is seen by polling.
      while (!(await runner.reached(targets, committed))) await this.nextProgress(250);
    }
  }

  /**
   * Stops every source: no more fetching, deliveries under way get `graceMs` to finish, then the rest
   * is left uncommitted for the group's next consumer. Finished offsets are committed first.
   */
  async stop(graceMs = this.stopGraceMs): Promise<void> {
    if (this.state !== 'running') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopped';
    await Promise.all(this.runners.map((runner) => runner.stop(graceMs)));
    await Promise.all([this.producer.disconnect(), this.admin.disconnect()]);
  }

  /**
   * Produces a dead letter to the dead-letter topic. Like Knative, the offset is committed whether or
   * not this succeeds: the repository already holds the letter, and a broker outage must not stall the
   * partition (the idempotent producer would retry forever), so the wait is bounded and failures logged.
   */
  async produceDeadLetter(record: {
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, string>;
  }): Promise<void> {
    const bound = new AbortController();
    const sent = this.producer.send({ topic: this.deadLetterTopic, acks: -1, messages: [record] });
    sent.catch(() => {});
    try {
      const delivered = await Promise.race([
        sent.then(() => true),
        sleep(DEAD_LETTER_PRODUCE_TIMEOUT_MS, false, { signal: bound.signal }),
      ]);
      if (!delivered) throw new Error(`no acknowledgement within ${DEAD_LETTER_PRODUCE_TIMEOUT_MS} ms`);
    } catch (error) {
      this.log.error('could not produce to the dead-letter topic', { error, topic: this.deadLetterTopic });
    } finally {
      bound.abort();
    }
  }

  /** @internal Wakes `until()` and `drain()` waiters. */
  progressed(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** @internal Resolves once `condition` holds, re-checked on every progress. */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await this.nextProgress(1000);
  }

  private nextProgress(maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(wake, maxMs);
      function wake() {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(wake);
    });
  }

  private async highWatermarks(): Promise<Map<string, number>> {
    const targets = new Map<string, number>();
    const topics = new Set(this.runners.flatMap((runner) => runner.topics));
    for (const topic of topics) {
      for (const { partition, high, low } of await retrying(() => this.admin.fetchTopicOffsets(topic))) {
        // An empty partition needs nothing; for a group without commits, -1 never reaches 0 otherwise.
        if (Number(high) > Number(low)) targets.set(laneKey(topic, partition), Number(high));
      }
    }
    return targets;
  }

  private async groupOffsets(groupId: string, topics: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const { topic, partitions } of await retrying(() => this.admin.fetchOffsets({ groupId, topics }))) {
      for (const { partition, offset } of partitions) out.set(laneKey(topic, partition), Number(offset));
    }
    return out;
  }
}

/**
 * Runs an admin request again on errors kafkajs marks retriable: right after a topic is created, its
 * leader can be known to the metadata before the broker serves it (NOT_LEADER_OR_FOLLOWER).
 */
export async function retrying<T>(request: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (attempt >= attempts || !(error as { retriable?: boolean }).retriable) throw error;
      await sleep(Math.min(50 * attempt, 500));
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
