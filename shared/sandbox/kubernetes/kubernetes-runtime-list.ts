/**
 * The Kubernetes backend as a function that runs no scripts sees it (submit, executions): the runtimes
 * of the registry, to check requests against and report in `k8s-limits`, and no Kubernetes client.
 */
import type { Sandbox } from '../port';
import { checkNamespace } from './namespace';
import { noRun } from './pod-outcome';
import { type RuntimeRegistry, runtimeInfos } from './runtime-registry';

export function createKubernetesRuntimeList(options: {
  registry: RuntimeRegistry | null;
  namespace: string;
}): Sandbox {
  checkNamespace(options.namespace);
  const offered = options.registry ? runtimeInfos(options.registry) : [];
  const problem = 'this function runs no scripts (run-pod does)';
  return {
    backend: 'kubernetes',
    check: async () => ({ ready: false, problem, features: [] }),
    runtimes: () => [...offered],
    start: (spec) => ({
      podName: `exec-${spec.executionId}`,
      outcome: Promise.resolve(noRun('sandbox_error', problem)),
      cancel: async () => undefined,
    }),
    close: async () => undefined,
  };
}
