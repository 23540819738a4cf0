/**
 * For tests against the local Kubernetes control plane (`scripts/services/services.sh start kube`): a
 * namespace of their own under Pod Security `restricted`, executor-like pods driven by KWOK's annotations
 * (scripts/services/kube/stages.yaml), and container logs served by KWOK from files the test writes.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1ConfigMap,
  type V1Pod,
} from '@kubernetes/client-node';
import { ANNOTATIONS, EXECUTION_ID_LABEL, executorLabels, executorName, SCRIPT_CONTAINER } from './contract';

/** Null when the tests can run; otherwise why not (they skip with it). */
export function kubeSkipReason(): string | null {
  const file = process.env.INTEGR8S_KUBECONFIG;
  if (!file) return 'INTEGR8S_KUBECONFIG is not set (start it: scripts/services/services.sh start kube)';
  if (!existsSync(file)) return `INTEGR8S_KUBECONFIG names ${file}, which does not exist`;
  return null;
}

export function adminKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(process.env.INTEGR8S_KUBECONFIG!);
  return config;
}

/** The annotations KWOK's stages read (see scripts/services/kube/stages.yaml). */
export const SIM = {
  outcome: 'sim.integr8scode.io/outcome',
  exitCode: 'sim.integr8scode.io/exit-code',
  runFor: 'sim.integr8scode.io/run-for',
  startAfter: 'sim.integr8scode.io/start-after',
  waitingReason: 'sim.integr8scode.io/waiting-reason',
  waitingMessage: 'sim.integr8scode.io/waiting-message',
  terminationMessage: 'sim.integr8scode.io/termination-message',
} as const;

/** A namespace that enforces Pod Security `restricted`, ready for pods (its default ServiceAccount exists). */
export async function createTestNamespace(config: KubeConfig, prefix: string): Promise<string> {
  const core = config.makeApiClient(CoreV1Api);
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  await core.createNamespace({
    body: {
      metadata: {
        name,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    },
  });
  await waitFor(
    async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return true;
    },
    { timeoutMs: 20_000, what: `the default ServiceAccount of ${name}` },
  );
  return name;
}

export async function deleteTestNamespace(config: KubeConfig, name: string): Promise<void> {
  await config
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name })
    .catch(() => {});
}

export interface ExecutorPodOptions {
  executionId: string;
  namespace: string;
  userId?: string;
  timeoutSeconds?: number;
  /** KWOK annotations: how the pod runs and ends. */
  simulate?: Record<string, string>;
}

/** An executor pod as the Kubernetes backend makes one: contract labels and annotations, locked down. */
export function executorPodManifest(options: ExecutorPodOptions): V1Pod {
  const timeoutSeconds = options.timeoutSeconds ?? 5;
  return {
    metadata: {
      name: executorName(options.executionId),
      namespace: options.namespace,
      labels: executorLabels(options.executionId),
      annotations: {
        [ANNOTATIONS.userId]: options.userId ?? 'user-1',
        [ANNOTATIONS.timeoutSeconds]: String(timeoutSeconds),
        [ANNOTATIONS.language]: 'python',
        [ANNOTATIONS.languageVersion]: '3.12',
        ...options.simulate,
      },
    },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: timeoutSeconds + 30,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: SCRIPT_CONTAINER,
          image: `registry.invalid/integr8scode/python@sha256:${'0'.repeat(64)}`,
          resources: { limits: { cpu: '1', memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
}

/** The pod's ConfigMap, owned by the pod (it goes with it) unless `owned` is false, as the backend makes it. */
export function executorConfigMap(pod: V1Pod, owned = true): V1ConfigMap {
  const executionId = pod.metadata?.labels?.[EXECUTION_ID_LABEL] ?? '';
  return {
    metadata: {
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
      labels: executorLabels(executionId),
      annotations: {
        [ANNOTATIONS.timeoutSeconds]: pod.metadata?.annotations?.[ANNOTATIONS.timeoutSeconds] ?? '5',
      },
      ...(owned
        ? {
            ownerReferences: [
              { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid! },
            ],
          }
        : {}),
    },
    data: { 'main.py': 'print("hi")' },
  };
}

/**
 * Serves `text` as the pod's container log through the API (pods/log): KWOK reads it from a file in CRI
 * log format, named by a Logs object of the pod's name.
 */
export class ContainerLogs {
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'integr8scode-pod-logs-'));
  constructor(private readonly config: KubeConfig) {}

  async serve(namespace: string, podName: string, text: string): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, `${namespace}_${podName}.log`);
    const stamp = new Date().toISOString().replace('Z', '000000Z');
    const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
    writeFileSync(file, lines.map((line) => `${stamp} stdout F ${line}\n`).join(''));
    await this.config.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'kwok.x-k8s.io',
      version: 'v1alpha1',
      namespace,
      plural: 'logs',
      body: {
        apiVersion: 'kwok.x-k8s.io/v1alpha1',
        kind: 'Logs',
        metadata: { name: podName, namespace },
        spec: { logs: [{ containers: [SCRIPT_CONTAINER], logsFile: file }] },
      },
    });
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls until `check` returns a value other than false/undefined (or stops throwing), within a bound. */
export async function waitFor<T>(
  check: () => Promise<T | false | undefined> | T | false | undefined,
  options: { timeoutMs?: number; intervalMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out waiting for ${options.what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
