/**
 * Stack mode with the Kubernetes backend: every function from its bundle on MongoDB (FerretDB), Redis and
 * Kafka, run-pod creating a pod and ConfigMap per execution on the local control plane and monitor
 * following them with its own watch. KWOK plays the node; the kubelet's part of running the container is
 * played by `KubeletStandIn`, which runs the pod's command (the runner from the ConfigMap, then the
 * script) as a local process and ends the pod with its exit code, log and termination message, so the
 * results below come from real runs of the runner and the script.
 * Needs `scripts/services/services.sh start` and `start kube`, and the bundles (npm run build).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionResult } from '../shared/domain/execution';
import {
  type KubernetesStack,
  kubernetesStackSkipReason,
  LOCAL_PYTHON,
  startKubernetesStack,
} from './support/kubernetes-stack';

const skip = kubernetesStackSkipReason();
if (skip) console.warn(`[stack-kubernetes.test] ${skip}: skipped`);

describe.skipIf(skip)('stack mode with the Kubernetes backend', () => {
  let k8s: KubernetesStack;

  beforeAll(async () => {
    k8s = await startKubernetesStack({ timeoutSeconds: 4 });
  }, 720_000); // may wait its turn behind another stack (takeStackTurn)

  afterAll(async () => {
    const errors = k8s?.errors() ?? [];
    if (errors.length > 0) console.warn(errors.join('\n'));
    await k8s?.stop();
  });

  const run = async (script: string): Promise<{ id: string; result: ExecutionResult }> => {
    const id = await k8s.user.submit(script, LOCAL_PYTHON.language);
    return { id, result: await k8s.user.waitStored(id, 60_000) };
  };

  it('runs a script in a pod: submit → run-pod → pod → monitor → store-result, result with its output', async () => {
    const { id, result } = await run('import sys\nprint("hello from a pod")\nprint("warn", file=sys.stderr)');
    expect(result).toMatchObject({
      execution_id: id,
      status: 'completed',
      exit_code: 0,
      stdout: 'hello from a pod\n',
      stderr: 'warn\n',
      lang: 'python',
      lang_version: LOCAL_PYTHON.version,
    });
    expect(k8s.kubelet.runs.map((r) => r.podName)).toContain(`exec-${id}`);
    expect(k8s.kubelet.failures).toEqual([]);
    const types = (await k8s.user.events(id)).map((event) => event.event_type);
    expect(types.filter((type) => type === 'pod_created')).toHaveLength(1);
    expect(types.filter((type) => type === 'pod_terminated')).toHaveLength(1);
    expect(types.filter((type) => type === 'result_stored')).toHaveLength(1);
    // monitor deletes a finished pod (its ConfigMap goes with it).
    await expect.poll(k8s.executorPods, { timeout: 15_000 }).not.toContain(`exec-${id}`);
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
    const id = await k8s.user.submit('import time\ntime.sleep(30)', LOCAL_PYTHON.language);
    await k8s.user.waitStatus(id, 'running', 30_000);
    expect(await k8s.user.cancel(id)).toBe(200);
    const result = await k8s.user.waitStored(id, 30_000);
    expect(result.status).toBe('cancelled');
    await expect.poll(k8s.executorPods, { timeout: 10_000 }).not.toContain(`exec-${id}`);
  });
});
