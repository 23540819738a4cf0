/**
 * Test support for monitor against the local Kubernetes control plane: a restricted namespace of the
 * test's own, monitor running as its own ServiceAccount with exactly the Role the manifests in knative/
 * grant it, an embedded platform whose store the tests count events in, and executor pods to drive.
 */
import { randomUUID } from 'node:crypto';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { EXECUTOR_RBAC } from '../../knative/manifests';
import type { MonitorSettings } from '../../shared/config/config';
import type { EventType } from '../../shared/events/schemas';
import { type RunnerReport, SCRIPT_CONTAINER } from '../../shared/sandbox/kubernetes/contract';
import type { ExecutorCluster } from '../../shared/sandbox/kubernetes/executor-cluster';
import { formatRunnerLog } from '../../shared/sandbox/kubernetes/runner-log';
import {
  adminKubeConfig,
  ContainerLogs,
  createTestNamespace,
  deleteTestNamespace,
  executorConfigMap,
  executorPodManifest,
  SIM,
  waitFor,
} from '../../shared/sandbox/kubernetes/test-cluster';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { createMonitorApp } from './app';
import { type KubernetesMonitor, startKubernetesMonitor } from './kubernetes';

export const TEST_SETTINGS: MonitorSettings = {
  MONITOR_POD_EVENTS: 'watch',
  MONITOR_RESYNC_SECONDS: 2,
  MONITOR_SWEEP_INTERVAL_SECONDS: 3600,
  MONITOR_SWEEP_GRACE_SECONDS: 60,
  MONITOR_START_GRACE_SECONDS: 1,
};

export const aReport = (overrides: Partial<RunnerReport> = {}): RunnerReport => ({
  v: 1,
  exit_code: 0,
  signal: null,
  timed_out: false,
  wall_ms: 120,
  cpu_ms: 80,
  peak_memory_bytes: 9 * 1024 * 1024,
  stdout_bytes: 0,
  stderr_bytes: 0,
  stdout_truncated: false,
  stderr_truncated: false,
  ...overrides,
});

export interface ExecutorPodRun {
  executionId: string;
  /** KWOK annotations, by their short names in SIM. */
  simulate?: Partial<Record<keyof typeof SIM, string>>;
  /** What the runner writes: its frames go to the container log, the report also to the termination message. */
  output?: { stdout?: string; stderr?: string; report?: RunnerReport };
  timeoutSeconds?: number;
  /** Also make the pod's ConfigMap (owned by the pod). */
  configMap?: boolean;
}

export class MonitorFixture {
  readonly admin = adminKubeConfig();
  readonly core = this.admin.makeApiClient(CoreV1Api);
  private readonly logs = new ContainerLogs(this.admin);
  private started: KubernetesMonitor[] = [];
  private app: ReturnType<typeof createMonitorApp> | null = null;
  /** Added to the platform's clock (the sweeper's "now"). */
  clockOffsetMs = 0;

  private constructor(
    readonly namespace: string,
    readonly monitorConfig: KubeConfig,
    readonly platform: TestPlatform,
  ) {}

  static async create(prefix: string): Promise<MonitorFixture> {
    const admin = adminKubeConfig();
    const namespace = await createTestNamespace(admin, prefix);
    const monitorConfig = await monitorIdentity(admin, namespace);
    let fixture: MonitorFixture | undefined;
    const platform = await createTestPlatform(
      { SANDBOX_BACKEND: 'kubernetes', KUBERNETES_NAMESPACE: namespace },
      { now: () => new Date(Date.now() + (fixture?.clockOffsetMs ?? 0)) },
    );
    fixture = new MonitorFixture(namespace, monitorConfig, platform);
    const self = fixture;
    // As in the embedded server: pod_terminated also reaches monitor's sink, and both ways must agree.
    platform.bus.subscribe({
      name: 'monitor',
      eventTypes: ['pod_terminated'],
      deliver: async (request) => (self.app ? self.app.fetch(request) : new Response(null, { status: 503 })),
    });
    return fixture;
  }

  /** monitor's Kubernetes side as its own ServiceAccount, and its app (which the bus delivers to). */
  startMonitor(
    settings: Partial<MonitorSettings> = {},
    cluster?: ExecutorCluster,
  ): {
    kube: KubernetesMonitor;
    app: ReturnType<typeof createMonitorApp>;
  } {
    const kube = startKubernetesMonitor(this.platform, {
      settings: { ...TEST_SETTINGS, ...settings },
      kubeConfig: this.monitorConfig,
      namespace: this.namespace,
      ...(cluster ? { cluster } : {}),
    });
    this.started.push(kube);
    const app = createMonitorApp(this.platform, { kubernetes: kube });
    this.app = app;
    return { kube, app };
  }

  /** Stops every monitor started so far (each test starts its own). */
  async stopMonitors(): Promise<void> {
    for (const kube of this.started) await kube.stop();
    this.started = [];
  }

  /** Serves the runner's log (if any) and creates the pod (and its ConfigMap); returns the created pod. */
  async createPod(run: ExecutorPodRun): Promise<V1Pod> {
    const simulate: Record<string, string> = {};
    for (const [key, value] of Object.entries(run.simulate ?? {}))
      simulate[SIM[key as keyof typeof SIM]] = value;
    if (run.output?.report) simulate[SIM.terminationMessage] ??= JSON.stringify(run.output.report);
    const manifest = executorPodManifest({
      executionId: run.executionId,
      namespace: this.namespace,
      timeoutSeconds: run.timeoutSeconds,
      simulate,
    });
    if (run.output) {
      const log = formatRunnerLog({
        stdout: run.output.stdout ?? '',
        stderr: run.output.stderr ?? '',
        capBytes: 1024 * 1024,
        ...(run.output.report ? { report: run.output.report } : {}),
      });
      await this.logs.serve(this.namespace, manifest.metadata!.name!, log);
    }
    const pod = await this.core.createNamespacedPod({ namespace: this.namespace, body: manifest });
    if (run.configMap) {
      await this.core.createNamespacedConfigMap({ namespace: this.namespace, body: executorConfigMap(pod) });
    }
    return pod;
  }

  async readPod(name: string): Promise<V1Pod | null> {
    try {
      return await this.core.readNamespacedPod({ name, namespace: this.namespace });
    } catch {
      return null;
    }
  }

  async podPhase(name: string): Promise<string | undefined> {
    return (await this.readPod(name))?.status?.phase;
  }

  async objectsLeft(kind: 'pods' | 'configmaps'): Promise<string[]> {
    const list =
      kind === 'pods'
        ? await this.core.listNamespacedPod({ namespace: this.namespace })
        : await this.core.listNamespacedConfigMap({ namespace: this.namespace });
    return list.items.map((item) => item.metadata?.name ?? '').filter((name) => name !== 'kube-root-ca.crt');
  }

  /** How many events of each type the store holds for an execution. */
  async counts(executionId: string): Promise<Partial<Record<EventType, number>>> {
    const counts: Partial<Record<EventType, number>> = {};
    for (const { event } of await this.platform.store.events.listByAggregate(executionId)) {
      counts[event.event_type] = (counts[event.event_type] ?? 0) + 1;
    }
    return counts;
  }

  async events(executionId: string, types: EventType[]) {
    return (await this.platform.store.events.listByAggregate(executionId, { eventTypes: types })).map(
      (stored) => stored.event,
    );
  }

  /** Waits for the execution's terminal event; then for every watch to have nothing left to handle. */
  async terminal(executionId: string, timeoutMs = 20_000) {
    return waitFor(
      async () =>
        (
          await this.events(executionId, [
            'execution_completed',
            'execution_failed',
            'execution_timeout',
            'execution_cancelled',
          ])
        )[0],
      { timeoutMs, what: `a terminal event of ${executionId}` },
    );
  }

  /** Lets every running watch and the bus finish what they have (repeated events included). */
  async settle(ms = 1500): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    for (const kube of this.started) await kube.watch?.idle();
  }

  async close(): Promise<void> {
    await this.stopMonitors();
    await this.platform.close();
    await deleteTestNamespace(this.admin, this.namespace);
    this.logs.close();
  }
}

export const newExecutionId = () => randomUUID();
export { SCRIPT_CONTAINER, waitFor };

/**
 * A kubeconfig for monitor's ServiceAccount in `namespace`, bound to the Role the manifests give monitor:
 * what monitor does here, it can do in the cluster.
 */
async function monitorIdentity(admin: KubeConfig, namespace: string): Promise<KubeConfig> {
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const name = 'integr8scode-monitor';
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const rules = EXECUTOR_RBAC.monitor!.map((rule) => ({
    apiGroups: [...rule.apiGroups],
    resources: [...rule.resources],
    verbs: [...rule.verbs],
  }));
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster()!;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'local', server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name, token: request.status?.token }],
    contexts: [{ name, cluster: 'local', user: name }],
    currentContext: name,
  });
  // The Role takes effect within moments; wait until the account can list pods.
  const asMonitor = config.makeApiClient(CoreV1Api);
  await waitFor(async () => (await asMonitor.listNamespacedPod({ namespace })).items !== undefined, {
    what: "monitor's Role to take effect",
  });
  return config;
}
