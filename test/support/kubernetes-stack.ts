/**
 * A stack under test with the Kubernetes backend on the local control plane: a namespace of its own under
 * Pod Security `restricted`, the kubelet stand-in running its pods, and runtimes that are this machine's
 * interpreters (there are no images to pull here).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { type RunningStack, startStack } from '../../shared/platform/stack-runner';
import { EXECUTOR_SELECTOR } from '../../shared/sandbox/kubernetes/contract';
import {
  adminKubeConfig,
  createTestNamespace,
  deleteTestNamespace,
  kubeSkipReason,
} from '../../shared/sandbox/kubernetes/test-cluster';
import { KubeletStandIn } from '../../shared/sandbox/kubernetes/test-kubelet';
import { takeStackTurn } from './kafka-groups';
import { dropStackDatabase, type StackUser, stackTestEnv, stackUser } from './stack-client';

/** Null when a Kubernetes stack can run here; otherwise why not. */
export function kubernetesStackSkipReason(): string | null {
  const { INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL, INTEGR8S_KAFKA_BROKERS } = process.env;
  if (!INTEGR8S_MONGO_URL || !INTEGR8S_REDIS_URL || !INTEGR8S_KAFKA_BROKERS)
    return 'INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL or INTEGR8S_KAFKA_BROKERS is unset';
  return kubeSkipReason();
}

/** The one runtime of these stacks: the machine's python3 as the pod's command. */
export const LOCAL_PYTHON = { language: 'python', version: '3.11' } as const;
const LOCAL_RUNTIMES = {
  runtimes: {
    [LOCAL_PYTHON.language]: {
      [LOCAL_PYTHON.version]: {
        image: `registry.invalid/python@sha256:${'1'.repeat(64)}`,
        command: ['/usr/bin/python3'],
        fileName: 'main.py',
        env: { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
      },
    },
  },
};

export interface KubernetesStack {
  stack: RunningStack;
  user: StackUser;
  kubelet: KubeletStandIn;
  admin: KubeConfig;
  namespace: string;
  /** Names of the executor pods in the namespace now. */
  executorPods(): Promise<string[]>;
  /** Lines of the functions' logs at level error. */
  errors(): string[];
  stop(): Promise<void>;
}

export async function startKubernetesStack(options: { timeoutSeconds: number }): Promise<KubernetesStack> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'integr8scode-stack-k8s-'));
  const logs: string[] = [];
  const admin = adminKubeConfig();
  const namespace = await createTestNamespace(admin, 'integr8s-stack');
  const kubelet = new KubeletStandIn(admin, namespace);
  let stack: RunningStack | undefined;
  let releaseTurn: (() => void) | undefined;
  const env = stackTestEnv(dataDir, `stack_k8s_${Date.now().toString(36)}`, {
    SANDBOX_BACKEND: 'kubernetes',
    KUBECONFIG: process.env.INTEGR8S_KUBECONFIG!,
    KUBERNETES_NAMESPACE: namespace,
    KUBERNETES_RUNTIMES_FILE: path.join(dataDir, 'runtimes.json'),
    EXECUTION_TIMEOUT_SECONDS: String(options.timeoutSeconds),
  });
  const stop = async () => {
    await stack?.stop();
    releaseTurn?.();
    if (stack) await dropStackDatabase(env);
    await kubelet.stop();
    await deleteTestNamespace(admin, namespace);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await kubelet.start();
    writeFileSync(env.KUBERNETES_RUNTIMES_FILE!, JSON.stringify(LOCAL_RUNTIMES));
    releaseTurn = await takeStackTurn(process.env.INTEGR8S_KAFKA_BROKERS!);
    stack = await startStack({
      env,
      port: 0,
      onLog: (name, line) => logs.push(`${name}: ${line}`),
    });
    const core = admin.makeApiClient(CoreV1Api);
    return {
      stack,
      user: await stackUser(stack.url),
      kubelet,
      admin,
      namespace,
      executorPods: async () =>
        (await core.listNamespacedPod({ namespace, labelSelector: EXECUTOR_SELECTOR })).items.map(
          (pod) => pod.metadata!.name!,
        ),
      errors: () => logs.filter((line) => line.includes('"level":"error"')),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
