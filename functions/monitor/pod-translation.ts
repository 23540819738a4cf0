/**
 * Reads an executor pod the way the local sandbox reports a run: whether the script has started
 * (`execution_started`) and how it ended (the raw facts of `pod_terminated`, which classify.ts turns into
 * the outcome). Pure: the same pod, facts and output always give the same fields, so a repeated watch
 * event or a redelivered CloudEvent publishes the same event again.
 */
import { constants } from 'node:os';
import type { EventFields } from '../../shared/events/publisher';
import type { EventOf, SandboxEndReason } from '../../shared/events/schemas';
import type { RunnerReport } from '../../shared/sandbox/kubernetes/contract';
import {
  type ExecutorIdentity,
  type ExecutorPod,
  scriptContainer,
} from '../../shared/sandbox/kubernetes/executor-pod';
import { parseReport, type RunnerLog } from '../../shared/sandbox/kubernetes/runner-log';
import type { CappedOutput } from '../../shared/sandbox/port';

export interface PodFacts {
  now: Date;
  /** The pod is gone from the API: a delete event, or missing from a re-list. */
  deleted: boolean;
  /** How long a container may fail to start (image pull, container creation) before the run is given up. */
  startGraceMs: number;
  /** The sweeper removes the pod for outliving its deadline; this says so in the ending. */
  removedBecause?: string;
  /**
   * The runner's frames from the container log, once read: its report stands in for a missing
   * termination message, and its error frame says the script never ran. Null: not read, or unreadable.
   */
  runnerLog?: RunnerLog | null;
}

export type StartedFields = Pick<EventOf<'execution_started'>, 'pod_name' | 'node_name' | 'container_id'>;

export interface PodEnding {
  /** As the local sandbox names it; `removed`: deleted before the script ended (a cancel, or not). */
  reason: SandboxEndReason | 'removed';
  exitCode: number;
  signal: string | null;
  message: string | null;
  startedAt: string | null;
  finishedAt: string;
  report: RunnerReport | null;
  /** The script ran, so the container log holds its output. */
  ran: boolean;
}

export interface PodReading {
  started: StartedFields | null;
  ending: PodEnding | null;
  /** A container failing to start is given up at this time, unless the pod changes first. */
  recheckAt: Date | null;
}

/** Waiting reasons of a container that will never start; nothing retries them. */
const NEVER_STARTS = new Set(['InvalidImageName', 'ErrImageNeverPull']);
/** Waiting reasons of a container failing to start that the kubelet retries: given up after a grace. */
const FAILING_TO_START = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);
const IMAGE_REASONS = new Set(['InvalidImageName', 'ErrImageNeverPull', 'ErrImagePull', 'ImagePullBackOff']);

export const DELETED_MESSAGE = 'The pod was deleted before the script finished (not by Integr8sCode)';

export function readPod(pod: ExecutorPod, facts: PodFacts): PodReading {
  const container = scriptContainer(pod);
  const terminated = container?.state?.terminated ?? null;
  const waiting = container?.state?.waiting ?? null;
  const startedAt = terminated?.startedAt ?? container?.state?.running?.startedAt ?? null;
  const started: StartedFields | null = startedAt
    ? {
        pod_name: pod.metadata.name,
        node_name: pod.spec?.nodeName ?? null,
        container_id: container?.containerID ?? terminated?.containerID ?? null,
      }
    : null;
  const now = facts.now.toISOString();
  const report =
    (terminated?.message ? parseReport(terminated.message) : null) ?? facts.runnerLog?.report ?? null;
  const base = {
    exitCode: terminated?.exitCode ?? -1,
    signal: null,
    message: null,
    startedAt,
    finishedAt: terminated?.finishedAt ?? now,
    report,
    ran: startedAt !== null,
  };
  const reading = (ending: PodEnding | null, recheckAt: Date | null = null): PodReading => ({
    started,
    ending,
    recheckAt,
  });

  const phase = pod.status?.phase;
  const endedOnItsOwn = terminated !== null || phase === 'Succeeded' || phase === 'Failed';
  const removedAt = removalTime(pod, facts);
  // A kubelet stops the containers of a deleted pod too: an end at or after the deletion was the deletion's.
  const endedBeforeRemoval =
    endedOnItsOwn &&
    (removedAt === null || (terminated?.finishedAt != null && terminated.finishedAt < removedAt));
  if (endedBeforeRemoval) return reading(ownEnding(pod, base, report, facts.runnerLog?.error ?? null));
  if (removedAt !== null) {
    return reading({
      ...base,
      reason: 'removed',
      message: facts.removedBecause ?? removalMessage(pod, removedAt),
      finishedAt: terminated?.finishedAt ?? removedAt,
    });
  }
  const waitingReason = waiting?.reason ?? '';
  if (NEVER_STARTS.has(waitingReason)) {
    return reading({
      ...base,
      reason: 'sandbox_error',
      message: startFailure(waitingReason, waiting?.message),
    });
  }
  if (FAILING_TO_START.has(waitingReason)) {
    const since = Date.parse(pod.metadata.creationTimestamp ?? now);
    const giveUpAt = since + facts.startGraceMs;
    if (facts.now.getTime() >= giveUpAt) {
      return reading({
        ...base,
        reason: 'sandbox_error',
        message: startFailure(waitingReason, waiting?.message),
      });
    }
    return reading(null, new Date(giveUpAt));
  }
  return reading(null);
}

type Base = Omit<PodEnding, 'reason'>;

/** How a pod that ended by itself (or by its node) ended. */
function ownEnding(
  pod: ExecutorPod,
  base: Base,
  report: RunnerReport | null,
  runnerError: string | null,
): PodEnding {
  const status = pod.status;
  const disruption = status?.conditions?.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
  if (status?.reason === 'Evicted') {
    return {
      ...base,
      reason: 'sandbox_error',
      message: `The pod was evicted: ${status.message ?? 'no reason given'}`,
    };
  }
  if (disruption) {
    return {
      ...base,
      reason: 'sandbox_error',
      message:
        `The pod was stopped by the cluster (${disruption.reason ?? 'unknown reason'}): ${disruption.message ?? ''}`.trim(),
    };
  }
  const container = scriptContainer(pod);
  if (!base.ran) {
    const waiting = container?.state?.waiting;
    const why = waiting?.reason ? ` (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})` : '';
    const when = status?.reason === 'DeadlineExceeded' ? ' within its time limit' : '';
    return { ...base, reason: 'sandbox_error', message: `The script never started${when}${why}` };
  }
  const failedToRun = report?.runner_error ?? runnerError;
  if (failedToRun) {
    return {
      ...base,
      reason: 'sandbox_error',
      message: `The runner could not run the script: ${failedToRun}`,
    };
  }
  if (status?.reason === 'DeadlineExceeded' || report?.timed_out) return { ...base, reason: 'wall_timeout' };
  const terminated = container?.state?.terminated;
  const exitCode = report?.exit_code ?? terminated?.exitCode ?? (status?.phase === 'Succeeded' ? 0 : -1);
  // The kubelet names a container the kernel killed whole; the runner counts kills inside it.
  const oomKilled =
    terminated?.reason === 'OOMKilled' || ((report?.oom_kill_count ?? 0) > 0 && exitCode !== 0);
  if (oomKilled) return { ...base, exitCode, reason: 'memory_limit' };
  return { ...base, reason: 'exited', exitCode, signal: report?.signal ?? signalName(terminated?.signal) };
}

/** When the pod's deletion was asked for: its deletion time less the grace it was given. */
function removalTime(pod: ExecutorPod, facts: PodFacts): string | null {
  const { deletionTimestamp, deletionGracePeriodSeconds } = pod.metadata;
  if (deletionTimestamp) {
    return new Date(Date.parse(deletionTimestamp) - (deletionGracePeriodSeconds ?? 0) * 1000).toISOString();
  }
  return facts.deleted || facts.removedBecause ? facts.now.toISOString() : null;
}

/** Past its deadline, a pod is removed as overdue (run-pod's safety net does that); before, by someone else. */
function removalMessage(pod: ExecutorPod, removedAt: string): string {
  const deadline = pod.spec?.activeDeadlineSeconds;
  const since = pod.status?.startTime ?? pod.metadata.creationTimestamp;
  if (deadline && since && Date.parse(removedAt) > Date.parse(since) + deadline * 1000) {
    return `The pod was still there after its ${deadline} s deadline and was removed`;
  }
  return DELETED_MESSAGE;
}

function startFailure(reason: string, message: string | null | undefined): string {
  const what = IMAGE_REASONS.has(reason)
    ? 'The runtime image could not be pulled'
    : 'The script container could not be started';
  return `${what} (${reason}${message ? `: ${message}` : ''})`;
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));
const signalName = (signal: number | null | undefined): string | null =>
  signal ? (SIGNAL_NAMES.get(signal) ?? `signal ${signal}`) : null;

/**
 * A removal ends the run as a system error, unless the execution had already ended: a cancel deletes the
 * pod and is itself the terminal event, and a pod deleted after its result was reported needs nothing more.
 */
export function endingAfterRemoval(ending: PodEnding, executionEnded: boolean): PodEnding | null {
  if (ending.reason !== 'removed') return ending;
  return executionEnded ? null : { ...ending, reason: 'sandbox_error' };
}

/** `pod_terminated` for an ending; output null when the log could not be read (or the script never ran). */
export function podTerminatedFields(
  identity: ExecutorIdentity,
  ending: PodEnding & { reason: SandboxEndReason },
  output: RunnerLog | null,
): EventFields<EventOf<'pod_terminated'>> {
  const { report } = ending;
  const stream = (name: 'stdout' | 'stderr'): CappedOutput => {
    if (output) return output[name];
    // Output the log no longer holds is reported as cut: the byte count says how much there was.
    const bytes = report?.[`${name}_bytes`] ?? 0;
    return { text: '', truncated: bytes > 0, totalBytes: bytes };
  };
  const stdout = stream('stdout');
  const stderr = stream('stderr');
  return {
    event_type: 'pod_terminated',
    execution_id: identity.executionId,
    pod_name: identity.podName,
    exit_code: ending.exitCode,
    signal: ending.signal,
    reason: ending.reason,
    message: ending.message,
    timeout_seconds: identity.timeoutSeconds,
    started_at: ending.startedAt,
    finished_at: ending.finishedAt,
    stdout: stdout.text,
    stderr: stderr.text,
    stdout_truncated: stdout.truncated,
    stderr_truncated: stderr.truncated,
    stdout_bytes: stdout.totalBytes,
    stderr_bytes: stderr.totalBytes,
    resource_usage: resourceUsage(report),
  };
}

function resourceUsage(report: RunnerReport | null): EventOf<'pod_terminated'>['resource_usage'] {
  if (!report || report.cpu_ms === null || report.peak_memory_bytes === null) return null;
  return {
    execution_time_wall_seconds: report.wall_ms / 1000,
    cpu_time_seconds: report.cpu_ms / 1000,
    cpu_time_jiffies: Math.round(report.cpu_ms / 10),
    clk_tck_hertz: 100,
    peak_memory_kb: Math.round(report.peak_memory_bytes / 1024),
  };
}
