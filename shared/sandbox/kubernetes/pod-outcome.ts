/**
 * A SandboxOutcome from what the API server says about an executor pod. run-pod only needs to know
 * that the run is over (to free its slot); monitor, which also reads the logs, reports the execution's
 * result. The raw reasons here follow the same facts monitor classifies: the runner's report, the
 * container's termination, the pod's reason.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { SandboxOutcome } from '../port';
import { SCRIPT_CONTAINER } from './contract';
import { parseReport } from './runner-log';

const EMPTY = { text: '', truncated: false, totalBytes: 0 };

/** The pod has finished (it will not run again: restartPolicy is Never). */
export const hasEnded = (pod: V1Pod): boolean =>
  pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** A run that never ran, or whose pod is gone without a trace of how it ended. */
export function noRun(
  reason: 'sandbox_error' | 'cancelled',
  message: string,
  now = new Date(),
): SandboxOutcome {
  return {
    reason,
    exitCode: -1,
    signal: null,
    message,
    stdout: EMPTY,
    stderr: EMPTY,
    usage: null,
    startedAt: null,
    finishedAt: now,
  };
}

/** The outcome of a pod that has ended; output is left to monitor, which reads the log. */
export function endedPodOutcome(pod: V1Pod, now = new Date()): SandboxOutcome {
  const status = pod.status ?? {};
  const container = status.containerStatuses?.find((c) => c.name === SCRIPT_CONTAINER);
  const terminated = container?.state?.terminated;
  const report = terminated?.message ? parseReport(terminated.message) : null;
  let reason: SandboxOutcome['reason'] = 'exited';
  let message: string | null = null;
  if (status.reason === 'DeadlineExceeded' || report?.timed_out) {
    reason = 'wall_timeout';
    message = status.message ?? 'the time limit was reached';
  } else if (status.reason === 'Evicted') {
    reason = 'sandbox_error';
    message = `the pod was evicted: ${status.message ?? 'no message'}`;
  } else if (terminated?.reason === 'OOMKilled' || (report?.oom_kill_count ?? 0) > 0) {
    reason = 'memory_limit';
    message = 'the memory limit was reached';
  } else if (!terminated || report?.runner_error) {
    reason = 'sandbox_error';
    message =
      report?.runner_error ??
      status.message ??
      `the pod ended (${status.reason ?? status.phase}) without running the script`;
  }
  return {
    reason,
    exitCode: report?.exit_code ?? terminated?.exitCode ?? -1,
    signal: report?.signal ?? null,
    message,
    stdout: EMPTY,
    stderr: EMPTY,
    usage: report
      ? { wallMs: report.wall_ms, cpuMs: report.cpu_ms ?? 0, peakMemoryBytes: report.peak_memory_bytes ?? 0 }
      : null,
    startedAt: terminated?.startedAt ? new Date(terminated.startedAt) : null,
    finishedAt: terminated?.finishedAt ? new Date(terminated.finishedAt) : now,
  };
}
