/**
 * The Kubernetes backend in stack mode when the API server goes away for a few seconds (the whole local
 * control plane is stopped and started again, etcd's data kept). Like stack-faults.test.ts it disrupts a
 * shared server, so it runs with the fault suites, after everything else.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type KubernetesStack,
  kubernetesStackSkipReason,
  startKubernetesStack,
} from './support/kubernetes-stack';
import { serviceRunning, services } from './support/services';

const skip = kubernetesStackSkipReason();
if (skip) console.warn(`[stack-kubernetes-faults.test] ${skip}: skipped`);

describe.skipIf(skip)('stack mode with the Kubernetes backend under faults', () => {
  let k8s: KubernetesStack;

  beforeAll(async () => {
    k8s = await startKubernetesStack({ timeoutSeconds: 20 });
  }, 720_000); // may wait its turn behind another stack (takeStackTurn)

  afterAll(async () => {
    if (!(await serviceRunning('kube'))) await services('start', 'kube').catch(() => undefined);
    await k8s?.stop();
  });

  it('an API server away for seconds: a running execution still ends once with its result, one submitted meanwhile ends with a clear error, no pod is left', async () => {
    const { user } = k8s;
    const running = await user.submit('import time\ntime.sleep(3)\nprint("outlived the outage")', 'python');
    await user.waitStatus(running, 'running', 30_000);

    await services('stop', 'kube');
    try {
      const meanwhile = await user.submit('print("never runs")', 'python');
      const refused = await user.waitStored(meanwhile, 60_000);
      expect(refused).toMatchObject({ status: 'failed', error_type: 'system_error' });
      expect(refused.error_message).toMatch(/could not create pod .*ECONNREFUSED/);
      await sleep(2000); // the running script ends while the API server is still away
    } finally {
      await services('start', 'kube');
    }

    const result = await user.waitStored(running, 90_000);
    expect(result).toMatchObject({ status: 'completed', exit_code: 0, stdout: 'outlived the outage\n' });
    const types = (await user.events(running)).map((event) => event.event_type);
    expect(types.filter((type) => type === 'pod_terminated')).toHaveLength(1);
    expect(types.filter((type) => type === 'result_stored')).toHaveLength(1);
    expect(k8s.kubelet.failures).toEqual([]);
    await expect.poll(k8s.executorPods, { timeout: 30_000 }).toEqual([]);
  }, 240_000);
});
