/**
 * The Kubernetes backend of the sandbox port: each run is one hardened Pod and the ConfigMap holding
 * its runner, script and stdin (pod-spec.ts, executor-objects.ts). monitor reports what the pod does;
 * a run here only creates the objects and learns when the pod has ended or is gone (one watch for all
 * runs, pod-end-watch.ts), which is when its `outcome` resolves and run-pod frees the slot. A safety net
 * per run makes sure that happens even if the watch never says so; deleting a pod that outlived its
 * deadline is left to monitor's sweeper.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { formatBytes } from '../../config/config';
import type { Logger } from '../../log';
import type { RuntimeInfo, SandboxOutcome, SandboxStatus } from '../port';
import { ACTIVE_DEADLINE_GRACE_SECONDS, EXECUTOR_SELECTOR, executorName } from './contract';
import { type ApiCalls, createExecutorObjects, deletePodNow } from './executor-objects';
import { connect, describeApiError, statusOf, withRetries } from './kube-api';
import { checkNamespace } from './namespace';
import { PodEndWatch } from './pod-end-watch';
import { endedPodOutcome, hasEnded, noRun } from './pod-outcome';
import type { CreatedPod, PodHooks, PodRun, PodSandbox, PodSandboxSpec } from './pod-run';
import {
  buildExecutorPod,
  buildScriptConfigMap,
  configMapBytes,
  MAX_CONFIGMAP_BYTES,
  type PodResources,
  scriptFiles,
  timeoutSecondsOf,
} from './pod-spec';
import { type RuntimeRegistry, runtimeInfos } from './runtime-registry';

export interface KubernetesSandboxOptions {
  namespace: string;
  /** A kubeconfig file; the pod's own service account when absent. */
  kubeconfig?: string;
  registry: RuntimeRegistry;
  log: Logger;
  /** Requests and limits for a spec that brings none; the memory limit defaults to the spec's. */
  defaultResources: Omit<PodResources, 'memoryLimit'>;
  runtimeClassName?: string;
  timing?: Partial<Timing>;
}

interface Timing {
  /** Waits between attempts at an API call that failed transiently. */
  retryDelaysMs: number[];
  callTimeoutMs: number;
  /** After the pod's deadline, how long its end may go unseen before the run looks at the pod itself. */
  safetyGraceMs: number;
  /** How often it looks again while the pod is still there or the API server does not answer, and how often at most. */
  recheckMs: number;
  rechecks: number;
}

const DEFAULT_TIMING: Timing = {
  retryDelaysMs: [100, 400, 1000],
  callTimeoutMs: 10_000,
  safetyGraceMs: 60_000,
  recheckMs: 15_000,
  rechecks: 20,
};

export function createKubernetesSandbox(options: KubernetesSandboxOptions): PodSandbox {
  checkNamespace(options.namespace);
  const client = connect(options.kubeconfig);
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  const api: ApiCalls = {
    core: client.core,
    namespace: options.namespace,
    retryDelaysMs: timing.retryDelaysMs,
    callTimeoutMs: timing.callTimeoutMs,
  };
  const watch = new PodEndWatch(client.config, options.namespace, options.log);
  watch.start();
  if (options.registry.placeholders.length > 0) {
    options.log.warn('Kubernetes runtimes use placeholder image digests: pods cannot pull them', {
      source: options.registry.source,
      images: options.registry.placeholders,
    });
  }
  return new KubernetesSandbox(options, client.server, api, watch, timing);
}

class KubernetesSandbox implements PodSandbox {
  readonly backend = 'kubernetes' as const;
  readonly namespace: string;
  private readonly active = new Map<string, ExecutorRun>();

  constructor(
    private readonly options: KubernetesSandboxOptions,
    private readonly server: string,
    private readonly api: ApiCalls,
    private readonly watch: PodEndWatch,
    private readonly timing: Timing,
  ) {
    this.namespace = options.namespace;
  }

  async check(): Promise<SandboxStatus> {
    const { registry, runtimeClassName } = this.options;
    const features = [
      `Kubernetes API ${this.server}, namespace ${this.namespace}: one pod and one ConfigMap (owned by the pod) per execution`,
      'restricted Pod Security fields, hostUsers: false, no service-account token, no service links',
      `runtime class: ${runtimeClassName ?? 'the cluster default'}`,
      'requests and limits per execution, memory-backed /tmp capped at TMP_SIZE, activeDeadlineSeconds',
      'runner: wall-time kill, RLIMIT_CPU and RLIMIT_NPROC, cgroup CPU time and peak memory, head+tail output cap',
      `runtimes (${registry.source}): ${registry.runtimes.map((r) => `${r.language} ${r.version} ${r.image}`).join(', ')}`,
    ];
    if (registry.placeholders.length > 0) features.push('WARNING: placeholder image digests, replace them');
    try {
      await withRetries(
        () =>
          this.api.core.listNamespacedPod({
            namespace: this.namespace,
            labelSelector: EXECUTOR_SELECTOR,
            limit: 1,
          }),
        [],
        this.api.callTimeoutMs,
      );
      return { ready: true, features };
    } catch (error) {
      return {
        ready: false,
        problem: `cannot list pods in ${this.namespace} at ${this.server}: ${describeApiError(error)}`,
        features,
      };
    }
  }

  runtimes(): RuntimeInfo[] {
    return runtimeInfos(this.options.registry);
  }

  start(spec: PodSandboxSpec, hooks: PodHooks = {}): PodRun {
    return this.track(spec.executionId, (run) => run.create(spec, hooks));
  }

  follow(executionId: string): PodRun {
    return this.track(executionId, (run) => run.follow());
  }

  private track(executionId: string, begin: (run: ExecutorRun) => Promise<void>): PodRun {
    const run = new ExecutorRun(executionId, this.options, this.api, this.watch, this.timing);
    this.active.set(executionId, run);
    void run.outcome.finally(() => {
      if (this.active.get(executionId) === run) this.active.delete(executionId);
    });
    void begin(run).catch((error) => run.crashed(error));
    return run;
  }

  async deletePod(executionId: string): Promise<void> {
    const run = this.active.get(executionId);
    if (run) return run.cancel();
    await deletePodNow(this.api, executorName(executionId));
  }

  /** Stops following pods; they keep running, and monitor still reports them. */
  async close(): Promise<void> {
    for (const run of this.active.values()) run.abandon();
    await this.watch.stop();
  }
}

class ExecutorRun implements PodRun {
  readonly podName: string;
  readonly created: Promise<CreatedPod | null>;
  readonly outcome: Promise<SandboxOutcome>;
  private resolveCreated!: (pod: CreatedPod | null) => void;
  private resolveOutcome!: (outcome: SandboxOutcome) => void;
  private uid: string | null = null;
  private cancelRequested = false;
  private settled = false;
  private safetyTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly executionId: string,
    private readonly options: KubernetesSandboxOptions,
    private readonly api: ApiCalls,
    private readonly watch: PodEndWatch,
    private readonly timing: Timing,
  ) {
    this.podName = executorName(executionId);
    this.created = new Promise((resolve) => {
      this.resolveCreated = resolve;
    });
    this.outcome = new Promise((resolve) => {
      this.resolveOutcome = resolve;
    });
  }

  crashed(error: unknown): void {
    this.options.log.error('executor pod run failed', { error, executionId: this.executionId });
    this.fail(`the Kubernetes backend failed: ${(error as Error).message}`);
  }

  private fail(message: string): void {
    this.resolveCreated(null);
    this.finish(
      noRun(
        this.cancelRequested ? 'cancelled' : 'sandbox_error',
        this.cancelRequested ? 'cancelled' : message,
      ),
    );
  }

  private finish(outcome: SandboxOutcome): void {
    if (this.settled) return;
    this.settled = true;
    if (this.safetyTimer) clearTimeout(this.safetyTimer);
    if (this.uid) this.watch.forget(this.uid);
    this.resolveOutcome(outcome);
  }

  async create(spec: PodSandboxSpec, hooks: PodHooks): Promise<void> {
    const { options } = this;
    const runtime = options.registry.find(spec.language, spec.version);
    if (!runtime) {
      const offered = options.registry.runtimes.map((r) => `${r.language} ${r.version}`).join(', ');
      return this.fail(`runtime ${spec.language} ${spec.version} is not offered here (offered: ${offered})`);
    }
    const data = scriptFiles(runtime, spec.script, spec.stdin);
    const size = configMapBytes(data);
    if (size > MAX_CONFIGMAP_BYTES) {
      return this.fail(
        `the script and its input take ${size} bytes with the runner; a ConfigMap holds at most ${MAX_CONFIGMAP_BYTES}`,
      );
    }
    if (this.cancelRequested) return this.fail('cancelled');
    const pod = buildExecutorPod({
      namespace: this.api.namespace,
      executionId: this.executionId,
      runtime,
      limits: spec.limits,
      resources: {
        ...options.defaultResources,
        memoryLimit: formatBytes(spec.limits.memoryBytes),
        ...spec.pod?.resources,
      },
      owner: spec.pod?.owner ?? {},
      runtimeClassName: options.runtimeClassName,
    });
    const creation = await createExecutorObjects(this.api, {
      pod,
      executionId: this.executionId,
      configMapFor: (uid) =>
        buildScriptConfigMap(
          {
            name: this.podName,
            namespace: this.api.namespace,
            uid,
            executionId: this.executionId,
            annotations: pod.metadata!.annotations!,
          },
          data,
        ),
      cancelled: () => this.cancelRequested,
      beforeCompensation: async (uid, message) => {
        const pod = { namespace: this.api.namespace, podName: this.podName, uid };
        try {
          await hooks.beforeCompensation?.(pod, noRun('sandbox_error', message));
        } catch (error) {
          options.log.error('compensation hook failed', { executionId: this.executionId, error });
        }
      },
    });
    if (!creation.ok) {
      if (!creation.cancelled) {
        options.log.warn('executor pod not created', {
          executionId: this.executionId,
          problem: creation.message,
        });
      }
      return this.fail(creation.message);
    }
    this.followPod(creation.uid, timeoutSecondsOf(spec.limits) + ACTIVE_DEADLINE_GRACE_SECONDS);
  }

  async follow(): Promise<void> {
    let pod: V1Pod;
    try {
      pod = await withRetries(
        () => this.api.core.readNamespacedPod({ name: this.podName, namespace: this.api.namespace }),
        this.api.retryDelaysMs,
        this.api.callTimeoutMs,
      );
    } catch (error) {
      return this.fail(
        statusOf(error) === 404
          ? 'no pod for this execution'
          : `cannot read pod ${this.podName}: ${describeApiError(error)}`,
      );
    }
    if (this.cancelRequested) {
      await deletePodNow(this.api, this.podName, pod.metadata!.uid!);
      return this.fail('cancelled');
    }
    // A pod of ours has a deadline; one without gets the longest an execution may take.
    this.followPod(
      pod.metadata!.uid!,
      pod.spec?.activeDeadlineSeconds ?? 3600 + ACTIVE_DEADLINE_GRACE_SECONDS,
    );
  }

  /** The pod exists: report it, and settle when it ends or is gone (or the safety net says so). */
  private followPod(uid: string, deadlineSeconds: number): void {
    this.uid = uid;
    this.resolveCreated({ namespace: this.api.namespace, podName: this.podName, uid });
    void this.watch.waitForEnd(uid).then(({ pod: last, deleted }) => {
      if (deleted) this.finishGone();
      else if (last) this.finish(endedPodOutcome(last));
      else this.abandon(); // the watch was stopped
    });
    this.scheduleSafetyCheck(deadlineSeconds * 1000 + this.timing.safetyGraceMs, 0);
  }

  private finishGone(): void {
    this.finish(
      this.cancelRequested
        ? noRun('cancelled', 'cancelled')
        : noRun('sandbox_error', 'the pod was deleted before it finished'),
    );
  }

  /**
   * The watch never reported this pod's end: look at the pod, and again while it is still there or cannot
   * be read; after the last look the slot is freed anyway. The sweeper deletes pods that outlive their
   * deadline; not this.
   */
  private scheduleSafetyCheck(delayMs: number, attempt: number): void {
    if (this.settled) return;
    this.safetyTimer = setTimeout(() => void this.safetyCheck(attempt), delayMs);
    this.safetyTimer.unref();
  }

  private async safetyCheck(attempt: number): Promise<void> {
    let problem: string;
    try {
      const pod = await this.api.core.readNamespacedPod({
        name: this.podName,
        namespace: this.api.namespace,
      });
      if (pod.metadata?.uid !== this.uid) return this.finishGone();
      if (hasEnded(pod)) return this.finish(endedPodOutcome(pod));
      problem = 'the pod was still there long after its deadline';
    } catch (error) {
      if (statusOf(error) === 404) return this.finishGone();
      problem = `lost track of the pod: ${describeApiError(error)}`;
    }
    if (attempt < this.timing.rechecks) return this.scheduleSafetyCheck(this.timing.recheckMs, attempt + 1);
    this.options.log.error('executor pod not seen to end; its slot is freed', { pod: this.podName, problem });
    this.finish(noRun('sandbox_error', problem));
  }

  /**
   * Deletes the pod at once; the outcome is `cancelled` as soon as the API server has removed it. Throws
   * when it could not (the caller retries); the slot stays taken until the pod is seen to end.
   */
  async cancel(): Promise<void> {
    this.cancelRequested = true;
    if (this.settled || this.uid === null) return; // creation notices and cleans up
    try {
      await deletePodNow(this.api, this.podName, this.uid);
    } catch (error) {
      this.options.log.error('could not delete a cancelled executor pod', {
        pod: this.podName,
        error: describeApiError(error),
      });
      throw error;
    }
    this.finish(noRun('cancelled', 'cancelled'));
  }

  /** The sandbox is closing: stop following the pod (monitor still reports it). */
  abandon(): void {
    if (this.uid === null) return;
    this.finish(noRun('sandbox_error', 'no longer followed: the sandbox was closed'));
  }
}
