/**
 * Removes executor objects that outlived their deadline: pods older than their activeDeadlineSeconds plus
 * a grace (counted from when the kubelet started them, or from creation if it never did), and ConfigMaps
 * that no pod owns, older than their execution's time limit plus the grace. Owned ConfigMaps go with their
 * pod (ownerReference garbage collection). A pod is handed to `endPod` rather than deleted here, so that
 * its execution gets an ending before the pod disappears.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Logger } from '../../log';
import { ANNOTATIONS, EXECUTION_ID_LABEL } from './contract';
import { apiErrorMessage, type ExecutorCluster } from './executor-cluster';
import { type ExecutorPod, parseExecutorPod } from './executor-pod';

export interface SweepOptions {
  cluster: Pick<ExecutorCluster, 'listPods' | 'listConfigMaps' | 'deleteConfigMap'>;
  now: Date;
  graceMs: number;
  /** For an object that states no deadline of its own: the longest time limit an execution may have. */
  fallbackDeadlineSeconds: number;
  /** Ends the pod's execution if it has no ending yet, then deletes the pod. */
  endPod(pod: ExecutorPod, why: string): Promise<void>;
  log: Logger;
}

export interface SweepResult {
  pods: string[];
  configMaps: string[];
  /** Execution ids of the executor pods left in place. */
  remaining: string[];
}

export async function sweepExecutorObjects(options: SweepOptions): Promise<SweepResult> {
  const { cluster, now, graceMs, log } = options;
  const result: SweepResult = { pods: [], configMaps: [], remaining: [] };
  for (const item of await cluster.listPods()) {
    const parsed = parseExecutorPod(item);
    if (!parsed.ok) continue;
    const { pod } = parsed;
    const executionId = pod.metadata.labels?.[EXECUTION_ID_LABEL];
    const deadlineSeconds = pod.spec?.activeDeadlineSeconds ?? options.fallbackDeadlineSeconds;
    const since = pod.status?.startTime ?? pod.metadata.creationTimestamp;
    const overdueMs = since ? now.getTime() - Date.parse(since) - deadlineSeconds * 1000 : 0;
    if (!since || pod.metadata.deletionTimestamp || overdueMs <= graceMs) {
      if (executionId) result.remaining.push(executionId);
      continue;
    }
    const why = `The pod was still there ${Math.round(overdueMs / 1000)} s after its ${deadlineSeconds} s deadline and was removed`;
    try {
      await options.endPod(pod, why);
      result.pods.push(pod.metadata.name);
    } catch (error) {
      if (executionId) result.remaining.push(executionId);
      log.warn('could not sweep a pod; the next sweep tries again', {
        pod: pod.metadata.name,
        error: apiErrorMessage(error),
      });
    }
  }
  for (const meta of await cluster.listConfigMaps()) {
    if (!meta.name || !meta.uid || !overAge(meta, now, graceMs, options.fallbackDeadlineSeconds)) continue;
    try {
      await cluster.deleteConfigMap(meta.name, meta.uid);
      result.configMaps.push(meta.name);
    } catch (error) {
      log.warn('could not sweep a ConfigMap; the next sweep tries again', {
        config_map: meta.name,
        error: apiErrorMessage(error),
      });
    }
  }
  return result;
}

/** A ConfigMap no pod owns, older than its execution's time limit plus the grace. */
function overAge(meta: V1ObjectMeta, now: Date, graceMs: number, fallbackSeconds: number): boolean {
  if ((meta.ownerReferences ?? []).length > 0 || meta.deletionTimestamp || !meta.creationTimestamp)
    return false;
  const annotated = Number(meta.annotations?.[ANNOTATIONS.timeoutSeconds]);
  const deadlineSeconds = Number.isFinite(annotated) && annotated > 0 ? annotated : fallbackSeconds;
  return now.getTime() - new Date(meta.creationTimestamp).getTime() - deadlineSeconds * 1000 > graceMs;
}

export interface Sweeper<T> {
  /** One sweep now (tests, and the first one at start); a sweep under way is joined, not repeated. */
  sweep(): Promise<T>;
  stop(): void;
}

/** Runs `sweep` every `intervalMs`, one at a time; a failed sweep is logged and the next one tries again. */
export function startSweeper<T>(options: {
  sweep: () => Promise<T>;
  intervalMs: number;
  log: Logger;
}): Sweeper<T | null> {
  let running: Promise<T | null> | null = null;
  const sweep = () => {
    running ??= options
      .sweep()
      .catch((error) => {
        options.log.warn('sweep failed; the next one tries again', { error: apiErrorMessage(error) });
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void sweep(), options.intervalMs);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
