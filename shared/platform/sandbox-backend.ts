/**
 * The sandbox a process gets, by SANDBOX_BACKEND and by what the process needs of it (see
 * FunctionDefinition.sandbox). The Kubernetes backend is imported only when configured, so other
 * processes never load its client.
 */
import type { Config } from '../config/config';
import { formatBytes } from '../config/config';
import type { Logger } from '../log';
import { createLocalSandbox, createRuntimeList } from '../sandbox/local/local-sandbox';
import type { Sandbox } from '../sandbox/port';
import type { SandboxUse } from './function';

export interface SandboxChoice {
  /** `run`: scripts run here; `runtimes`: only the runtimes are offered; absent: neither. */
  use: SandboxUse | undefined;
  /** Local backend: where runs keep their files. */
  workDir: string;
  /** Local backend: try the hello world of runtimes that need one (only where one process runs all). */
  probeRuntimes: boolean;
  log: Logger;
}

export async function createSandbox(config: Config, choice: SandboxChoice): Promise<Sandbox> {
  if (config.SANDBOX_BACKEND === 'kubernetes') return createKubernetesBackend(config, choice);
  if (choice.use !== 'run') return createRuntimeList({ list: choice.use === 'runtimes', log: choice.log });
  return createLocalSandbox({
    workDir: choice.workDir,
    allowUnsandboxed: config.UNSAFE_ALLOW_UNSANDBOXED,
    log: choice.log,
    probeRuntimes: choice.probeRuntimes,
  });
}

async function createKubernetesBackend(config: Config, choice: SandboxChoice): Promise<Sandbox> {
  const { loadRuntimeRegistry } = await import('../sandbox/kubernetes/runtime-registry');
  if (choice.use !== 'run') {
    const { createKubernetesRuntimeList } = await import('../sandbox/kubernetes/kubernetes-runtime-list');
    return createKubernetesRuntimeList({
      registry: choice.use === 'runtimes' ? loadRuntimeRegistry(config.KUBERNETES_RUNTIMES_FILE) : null,
      namespace: config.KUBERNETES_NAMESPACE,
    });
  }
  const { createKubernetesSandbox } = await import('../sandbox/kubernetes/kubernetes-sandbox');
  return createKubernetesSandbox({
    namespace: config.KUBERNETES_NAMESPACE,
    kubeconfig: config.KUBECONFIG,
    registry: loadRuntimeRegistry(config.KUBERNETES_RUNTIMES_FILE),
    log: choice.log,
    defaultResources: {
      cpuRequest: config.CPU_REQUEST,
      cpuLimit: config.CPU_LIMIT,
      memoryRequest: formatBytes(config.MEMORY_REQUEST),
    },
    runtimeClassName: config.KUBERNETES_RUNTIME_CLASS,
  });
}
