/**
 * Stack mode with the Kubernetes backend: every function from its bundle on MongoDB (FerretDB), Redis and
 * Kafka, run-pod creating a pod and ConfigMap per execution on the local control plane and monitor
 * following them with its own watch. KWOK plays the node; the kubelet's part of running the container is
 * played by `KubeletStandIn`, which runs the pod's command (the runner from the ConfigMap, then the
 * script) as a local process and ends the pod with its exit code, log and termination message, so the
 * results below come from real runs of the runner and the script.
 * Needs `scripts/services/services.sh start` and `start kube`, and the bundles (npm run build).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionResult } from '../shared/domain/execution';
import { type RunningStack, startStack } from '../shared/platform/stack-runner';
import { EXECUTOR_SELECTOR } from '../shared/sandbox/kubernetes/contract';
import {
  adminKubeConfig,
  createTestNamespace,
  deleteTestNamespace,
  kubeSkipReason,
} from '../shared/sandbox/kubernetes/test-cluster';
import { KubeletStandIn } from '../shared/sandbox/kubernetes/test-kubelet';
import { takeStackTurn } from './support/kafka-groups';
import { type StackUser, stackTestEnv, stackUser } from './support/stack-client';

const { INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL, INTEGR8S_KAFKA_BROKERS } = process.env;
const skip =
  INTEGR8S_MONGO_URL && INTEGR8S_REDIS_URL && INTEGR8S_KAFKA_BROKERS
    ? kubeSkipReason()
    : 'INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL or INTEGR8S_KAFKA_BROKERS is unset';
if (skip) console.warn(`[stack-kubernetes.test] ${skip}: skipped`);

const TIMEOUT_SECONDS = 4;
/** The runtimes this machine can run as a pod's command: no images here, the interpreters themselves. */
const LOCAL_RUNTIMES = {
  runtimes: {
    python: {
      '3.11': {
        image: `registry.invalid/python@sha256:${'1'.repeat(64)}`,
        command: ['/usr/bin/python3'],
        fileName: 'main.py',
        env: { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
      },
    },
  },
};

describe.skipIf(skip)('stack mode with the Kubernetes backend', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'integr8scode-stack-k8s-'));
  const logs: string[] = [];
  let admin: KubeConfig;
  let namespace: string;
  let kubelet: KubeletStandIn;
  let stack: RunningStack;
  let releaseTurn: (() => void) | undefined;
  let user: StackUser;

  beforeAll(async () => {
    admin = adminKubeConfig();
    namespace = await createTestNamespace(admin, 'integr8s-stack');
    kubelet = new KubeletStandIn(admin, namespace);
    await kubelet.start();
    const runtimesFile = path.join(dataDir, 'runtimes.json');
    writeFileSync(runtimesFile, JSON.stringify(LOCAL_RUNTIMES));
    releaseTurn = await takeStackTurn(INTEGR8S_KAFKA_BROKERS!);
    stack = await startStack({
      env: stackTestEnv(dataDir, `stack_k8s_${Date.now().toString(36)}`, {
        SANDBOX_BACKEND: 'kubernetes',
        KUBECONFIG: process.env.INTEGR8S_KUBECONFIG!,
        KUBERNETES_NAMESPACE: namespace,
        KUBERNETES_RUNTIMES_FILE: runtimesFile,
        EXECUTION_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
      }),
      port: 0,
      onLog: (name, line) => logs.push(`${name}: ${line}`),
    });
    user = await stackUser(stack.url);
  }, 720_000); // may wait its turn behind another stack (takeStackTurn)

  afterAll(async () => {
    await stack?.stop();
    releaseTurn?.();
    await kubelet?.stop();
    if (namespace) await deleteTestNamespace(admin, namespace);
    rmSync(dataDir, { recursive: true, force: true });
    if (logs.some((line) => line.includes('"level":"error"')))
      console.warn(logs.filter((l) => l.includes('error')).join('\n'));
  });

  const run = async (script: string): Promise<{ id: string; result: ExecutionResult }> => {
    const id = await user.submit(script, 'python');
    return { id, result: await user.waitStored(id, 60_000) };
  };
  const executorPods = async () =>
    (
      await admin.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: EXECUTOR_SELECTOR })
    ).items.map((pod) => pod.metadata!.name!);

  it('runs a script in a pod: submit → run-pod → pod → monitor → store-result, result with its output', async () => {
    const { id, result } = await run('import sys\nprint("hello from a pod")\nprint("warn", file=sys.stderr)');
    expect(result).toMatchObject({
      execution_id: id,
      status: 'completed',
      exit_code: 0,
      stdout: 'hello from a pod\n',
      stderr: 'warn\n',
      lang: 'python',
      lang_version: '3.11',
    });
    expect(kubelet.runs.map((r) => r.podName)).toContain(`exec-${id}`);
    expect(kubelet.failures).toEqual([]);
    const types = (await user.events(id)).map((event) => event.event_type);
    expect(types.filter((type) => type === 'pod_created')).toHaveLength(1);
    expect(types.filter((type) => type === 'pod_terminated')).toHaveLength(1);
    expect(types.filter((type) => type === 'result_stored')).toHaveLength(1);
    // monitor deletes a finished pod (its ConfigMap goes with it).
    await expect.poll(executorPods, { timeout: 15_000 }).not.toContain(`exec-${id}`);
  });

  it('a non-zero exit is a script error with the exit code', async () => {
    const { result } = await run('import sys\nprint("partial")\nsys.exit(4)');
    expect(result).toMatchObject({
      status: 'failed',
      error_type: 'script_error',
      exit_code: 4,
      stdout: 'partial\n',
    });
  });

  it('a script over its time limit is stopped by the runner and ends as a timeout', async () => {
    const { result } = await run('print("started", flush=True)\nwhile True:\n    pass');
    expect(result).toMatchObject({ status: 'timeout', error_type: 'timeout', stdout: 'started\n' });
  });

  it('cancel deletes the pod at once and the execution ends cancelled', async () => {
    const id = await user.submit('import time\ntime.sleep(30)', 'python');
    await user.waitStatus(id, 'running', 30_000);
    expect(await user.cancel(id)).toBe(200);
    const result = await user.waitStored(id, 30_000);
    expect(result.status).toBe('cancelled');
    await expect.poll(executorPods, { timeout: 10_000 }).not.toContain(`exec-${id}`);
  });
});
