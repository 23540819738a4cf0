/**
 * The one code path for every executor pod change, whether the process's own watch saw it or Knative's
 * ApiServerSource POSTed it: read the pod, publish `execution_started` once the script runs, and once the
 * pod has ended, read the output from its log, publish `pod_terminated` and its outcome, then delete the
 * pod (its ConfigMap goes with it by ownerReference). Every event id derives from the pod's uid, so repeated
 * changes, a restarted watch or a redelivered CloudEvent publish nothing twice.
 */
import { ApiException } from '@kubernetes/client-node';
import type { EventContext } from '../../shared/events/publisher';
import { type DomainEvent, type EventOf, TERMINAL_EXECUTION_EVENTS } from '../../shared/events/schemas';
import { PermanentEventError } from '../../shared/http/cloudevent-sink';
import type { Logger } from '../../shared/log';
import type { Platform } from '../../shared/platform/platform';
import { executorPodCause } from '../../shared/sandbox/kubernetes/contract';
import { apiErrorMessage, type ExecutorCluster } from '../../shared/sandbox/kubernetes/executor-cluster';
import {
  type ExecutorIdentity,
  executorIdentity,
  parseExecutorPod,
} from '../../shared/sandbox/kubernetes/executor-pod';
import type { ParsedRunnerLog, RunnerLog } from '../../shared/sandbox/kubernetes/runner-log';
import { publishOutcome } from './outcome';
import {
  endingAfterRemoval,
  type PodEnding,
  type PodFacts,
  podTerminatedFields,
  readPod,
} from './pod-translation';

export interface PodReporterOptions {
  platform: Platform;
  cluster: Pick<ExecutorCluster, 'readLog' | 'deletePod'>;
  /** Reads the runner's frames (the script's capped streams) from the container log. */
  parseLog(log: string): ParsedRunnerLog;
  startGraceMs: number;
  log: Logger;
}

export interface PodChangeFacts {
  /** The pod is gone from the API. */
  deleted?: boolean;
  /** The sweeper removes it, for this reason. */
  removedBecause?: string;
}

export interface PodReport {
  /** The pod has ended and its ending is reported (or was not needed: a cancel). */
  ended: boolean;
  /** Look at the pod again then, if it has not changed by itself. */
  recheckAt: Date | null;
}

export interface PodReporter {
  report(pod: unknown, facts?: PodChangeFacts): Promise<PodReport>;
}

const PUBLISH_ATTEMPTS = 4;
const LOG_READ_ATTEMPTS = 3;
/** What this process already published, so a pod's later changes skip the store's duplicate check. */
const REMEMBERED = 10_000;

export function createPodReporter(options: PodReporterOptions): PodReporter {
  const { platform, cluster, log } = options;
  const done = new RecentKeys(REMEMBERED);

  async function publish(event: DomainEvent): Promise<DomainEvent> {
    const stored = await withRetries(PUBLISH_ATTEMPTS, () => platform.events.publish(event));
    return stored.event;
  }

  /** Ended, or its ending is on its way: a terminal event, or a sandbox end someone already reported. */
  async function executionEnded(executionId: string): Promise<boolean> {
    const ends = await platform.store.events.listByAggregate(executionId, {
      eventTypes: [...TERMINAL_EXECUTION_EVENTS, 'pod_terminated'],
    });
    return ends.length > 0;
  }

  /** The runner's frames from the pod's log; null when unreadable (the ending is reported without output). */
  async function readRunnerLog(podName: string): Promise<RunnerLog | null> {
    try {
      const text = await withRetries(LOG_READ_ATTEMPTS, () => cluster.readLog(podName), isWorthRetrying);
      const parsed = options.parseLog(text);
      if (parsed.ok) return parsed.log;
      log.warn('the pod log holds no usable runner frames', { pod: podName, problem: parsed.problem });
    } catch (error) {
      log.warn('could not read the pod log', { pod: podName, error: apiErrorMessage(error) });
    }
    return null;
  }

  async function reportEnding(
    identity: ExecutorIdentity,
    ending: PodEnding,
    runnerLog: RunnerLog | null,
    context: EventContext,
  ): Promise<void> {
    if (ending.reason === 'removed') throw new Error('a removal must be resolved before it is reported');
    const terminated = await publish(
      platform.events.create<EventOf<'pod_terminated'>>(
        podTerminatedFields(identity, { ...ending, reason: ending.reason }, runnerLog),
        context,
      ),
    );
    // The stored copy: if another report of this pod got there first, its facts decide the outcome.
    await withRetries(PUBLISH_ATTEMPTS, () =>
      publishOutcome(platform, terminated as EventOf<'pod_terminated'>),
    );
  }

  /**
   * This pod's `pod_terminated` if the store has it: another process (a replica, this one before a restart,
   * an earlier Knative instance) reported the pod's end, and only its outcome may still be missing.
   */
  async function storedEnding(identity: ExecutorIdentity, context: EventContext) {
    // Ids derive from the pod and the type alone: this is the id any report of this pod's end has.
    const id = platform.events.create({ event_type: 'pod_terminated' } as never, context).event_id;
    const stored = await platform.store.events.listByAggregate(identity.executionId, {
      eventTypes: ['pod_terminated'],
    });
    return stored.find(({ event }) => event.event_id === id)?.event as EventOf<'pod_terminated'> | undefined;
  }

  async function deletePod(identity: ExecutorIdentity): Promise<void> {
    try {
      await cluster.deletePod(identity.podName, identity.podUid);
    } catch (error) {
      // The ending is out; the next resync or sweep deletes the pod.
      log.warn('could not delete a finished pod', { pod: identity.podName, error: apiErrorMessage(error) });
    }
  }

  return {
    async report(input, change = {}) {
      const parsed = parseExecutorPod(input);
      if (!parsed.ok) throw new PermanentEventError(parsed.error);
      const { pod } = parsed;
      const identity = executorIdentity(pod);
      if (!identity) {
        log.warn('a pod without an execution label; ignored', { pod: pod.metadata.name });
        return { ended: false, recheckAt: null };
      }
      const facts: PodFacts = {
        now: platform.now(),
        deleted: change.deleted ?? false,
        startGraceMs: options.startGraceMs,
        removedBecause: change.removedBecause,
      };
      let reading = readPod(pod, facts);
      const context: EventContext = {
        userId: identity.userId,
        traceparent: identity.traceparent,
        causedBy: executorPodCause(identity.podUid),
      };
      const endedKey = `${identity.podUid}:ended`;
      const startedKey = `${identity.podUid}:started`;
      let reported = done.has(endedKey);
      if (!reported && reading.ending) {
        const stored = await storedEnding(identity, context);
        if (stored) {
          await withRetries(PUBLISH_ATTEMPTS, () => publishOutcome(platform, stored));
          done.add(startedKey);
          done.add(endedKey);
          reported = true;
        }
      }
      let runnerLog: RunnerLog | null = null;
      // The runner writes its frames once the script is over: a removed pod's log has none to read.
      if (!reported && reading.ending?.ran && reading.ending.reason !== 'removed') {
        runnerLog = await readRunnerLog(identity.podName);
        // Its report stands in for a missing termination message, its error frame says the script never ran.
        if (runnerLog) reading = readPod(pod, { ...facts, runnerLog });
      }
      let ending = reading.ending;
      if (!reported && ending?.reason === 'removed') {
        ending = endingAfterRemoval(ending, await executionEnded(identity.executionId));
      }
      // An execution that had ended before its pod was removed (a cancel) hears nothing more, not even a start.
      const silent = reading.ending !== null && ending === null;
      if (reading.started && !silent && !done.has(startedKey)) {
        await publish(
          platform.events.create<EventOf<'execution_started'>>(
            { event_type: 'execution_started', execution_id: identity.executionId, ...reading.started },
            context,
          ),
        );
        done.add(startedKey);
      }
      if (!reading.ending) return { ended: false, recheckAt: reading.recheckAt };
      if (ending && !reported) await reportEnding(identity, ending, runnerLog, context);
      done.add(endedKey);
      if (!change.deleted && !pod.metadata.deletionTimestamp) await deletePod(identity);
      return { ended: true, recheckAt: null };
    },
  };
}

/** Client errors other than a timeout will not go away by asking again. */
function isWorthRetrying(error: unknown): boolean {
  return !(error instanceof ApiException && error.code >= 400 && error.code < 500 && error.code !== 429);
}

async function withRetries<T>(
  attempts: number,
  run: () => Promise<T>,
  retryable: (error: unknown) => boolean = () => true,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !retryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (attempt - 1)));
    }
  }
}

/** A set that forgets its oldest keys beyond a size. */
class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly limit: number) {}
  has(key: string): boolean {
    return this.keys.has(key);
  }
  add(key: string): void {
    this.keys.delete(key);
    this.keys.add(key);
    if (this.keys.size > this.limit) this.keys.delete(this.keys.values().next().value as string);
  }
}
