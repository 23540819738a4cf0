/**
 * monitor's Kubernetes side: the pod reporter, fed either by Knative's ApiServerSource (CloudEvents at
 * `POST /`) or, in stack and embedded mode, by this process's own pod watch; and the sweeper of executor
 * objects that outlived their deadline, on a timer with the watch, or on each PingSource event in Knative
 * (a resync: every executor pod is looked at again, so a pod event the ApiServerSource failed to deliver,
 * which it never sends again, is made good).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { MonitorSettings } from '../../shared/config/config';
import { PermanentEventError } from '../../shared/http/cloudevent-sink';
import type { Platform } from '../../shared/platform/platform';
import { EXECUTOR_SELECTOR } from '../../shared/sandbox/kubernetes/contract';
import {
  apiErrorMessage,
  type ExecutorCluster,
  kubernetesExecutorCluster,
  loadKubeConfig,
} from '../../shared/sandbox/kubernetes/executor-cluster';
import type { ExecutorPod } from '../../shared/sandbox/kubernetes/executor-pod';
import { type PodWatch, startPodWatch } from '../../shared/sandbox/kubernetes/executor-pod-watch';
import { parseRunnerLog } from '../../shared/sandbox/kubernetes/runner-log';
import {
  type Sweeper,
  type SweepResult,
  startSweeper,
  sweepExecutorObjects,
} from '../../shared/sandbox/kubernetes/sweeper';
import { createPodReporter, type PodReporter } from './pod-reporter';
import { endStrandedExecutions } from './stranded';

/** The longest time limit an execution may be given (EXECUTION_TIMEOUT_SECONDS' bound). */
const LONGEST_TIMEOUT_SECONDS = 3600;
/** Pods a resync reports at once. */
const RESYNC_CONCURRENCY = 8;

/** What a sweep removed and ended: over-age pods and ConfigMaps, and executions whose pod vanished unseen. */
export interface MonitorSweep extends SweepResult {
  stranded: string[];
}

export interface KubernetesMonitor {
  reporter: PodReporter;
  /** Present when this process watches the pods itself. */
  watch: PodWatch | null;
  sweeper: Sweeper<MonitorSweep | null> | null;
  /** Looks at every executor pod again, then sweeps (Knative's PingSource asks for this). */
  resync(): Promise<MonitorSweep>;
  stop(): Promise<void>;
}

export interface KubernetesMonitorOptions {
  settings: MonitorSettings;
  /** Defaults to KUBECONFIG, else the pod's service account. */
  kubeConfig?: KubeConfig;
  namespace?: string;
  /** The calls made on executor objects; by default through the API with `kubeConfig` (a benchmark times them). */
  cluster?: ExecutorCluster;
}

export function startKubernetesMonitor(
  platform: Platform,
  options: KubernetesMonitorOptions,
): KubernetesMonitor {
  const { settings } = options;
  const log = platform.log.child({ function: 'monitor', component: 'kubernetes' });
  const kubeConfig = options.kubeConfig ?? loadKubeConfig(platform.config.KUBECONFIG);
  const cluster: ExecutorCluster =
    options.cluster ??
    kubernetesExecutorCluster(kubeConfig, options.namespace ?? platform.config.KUBERNETES_NAMESPACE);
  const reporter = createPodReporter({
    platform,
    cluster,
    parseLog: parseRunnerLog,
    startGraceMs: settings.MONITOR_START_GRACE_SECONDS * 1000,
    log,
  });
  const sweepOptions = {
    cluster,
    graceMs: settings.MONITOR_SWEEP_GRACE_SECONDS * 1000,
    fallbackDeadlineSeconds: LONGEST_TIMEOUT_SECONDS,
    endPod: async (pod: ExecutorPod, why: string) => {
      await reporter.report(pod, { removedBecause: why });
    },
    log,
  };
  async function sweep(): Promise<MonitorSweep> {
    const now = platform.now();
    const objects = await sweepExecutorObjects({ ...sweepOptions, now });
    const stranded = await endStrandedExecutions({
      platform,
      withPods: new Set(objects.remaining),
      now,
      graceMs: sweepOptions.graceMs,
    });
    return { ...objects, stranded };
  }
  async function resync(): Promise<MonitorSweep> {
    const pods = await cluster.listPods();
    for (let at = 0; at < pods.length; at += RESYNC_CONCURRENCY) {
      await Promise.all(
        pods.slice(at, at + RESYNC_CONCURRENCY).map((pod) =>
          reporter.report(pod).catch((error) => {
            // One pod's trouble does not hold up the others; the next resync tries it again.
            log.warn('resync could not report a pod', { error: apiErrorMessage(error) });
          }),
        ),
      );
    }
    return sweep();
  }
  if (settings.MONITOR_POD_EVENTS !== 'watch') {
    return { reporter, watch: null, sweeper: null, resync, stop: async () => {} };
  }

  const watch = startPodWatch({
    kubeConfig,
    namespace: cluster.namespace,
    labelSelector: EXECUTOR_SELECTOR,
    resyncMs: settings.MONITOR_RESYNC_SECONDS * 1000,
    log,
    onPod: async ({ pod, deleted }) => {
      try {
        return await reporter.report(pod, { deleted });
      } catch (error) {
        // Nothing a retry could change; the watch retries everything else.
        if (!(error instanceof PermanentEventError)) throw error;
        log.warn('a pod that cannot be read; ignored', { pod: pod.metadata?.name, error: error.message });
        return undefined;
      }
    },
  });
  const sweeper = startSweeper({ sweep, intervalMs: settings.MONITOR_SWEEP_INTERVAL_SECONDS * 1000, log });
  watch.synced
    .then(() => sweeper.sweep())
    .catch((error) => log.warn('first sweep failed', { error: apiErrorMessage(error) }));
  return {
    reporter,
    watch,
    sweeper,
    resync,
    async stop() {
      sweeper.stop();
      await watch.stop();
    },
  };
}
