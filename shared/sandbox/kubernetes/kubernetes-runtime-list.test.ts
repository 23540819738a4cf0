import { afterEach, describe, expect, it } from 'vitest';
import { createExecutionsApp } from '../../../functions/executions/app';
import { createTestPlatform, type TestPlatform } from '../../../test/support/platform';
import { ConfigError, loadConfig } from '../../config/config';
import { createKubernetesRuntimeList } from './kubernetes-runtime-list';
import { loadRuntimeRegistry } from './runtime-registry';

let platform: TestPlatform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
});

describe('Kubernetes runtimes where no script runs', () => {
  it('are what k8s-limits reports when the Kubernetes backend is active', async () => {
    const sandbox = createKubernetesRuntimeList({
      registry: loadRuntimeRegistry(),
      namespace: 'integr8scode-executions',
    });
    platform = await createTestPlatform({ SANDBOX_BACKEND: 'kubernetes' }, { sandbox });
    const response = await createExecutionsApp(platform).request('/api/v1/k8s-limits');
    expect(response.status).toBe(200);
    const limits = (await response.json()) as {
      sandbox: string;
      supported_runtimes: Record<string, { versions: string[]; file_ext: string }>;
    };
    expect(limits.sandbox).toBe('kubernetes');
    expect(limits.supported_runtimes).toEqual({
      python: { versions: ['3.12'], file_ext: 'py' },
      node: { versions: ['22'], file_ext: 'js' },
      ruby: { versions: ['3.3'], file_ext: 'rb' },
      bash: { versions: ['5.2'], file_ext: 'sh' },
      go: { versions: ['1.24'], file_ext: 'go' },
    });
  });

  it('run nothing, and refuse the default namespace as the configuration does', async () => {
    const sandbox = createKubernetesRuntimeList({ registry: null, namespace: 'integr8scode-executions' });
    expect(sandbox.runtimes()).toEqual([]);
    const run = sandbox.start({
      executionId: 'x',
      language: 'python',
      version: '3.12',
      script: '',
      stdin: '',
      limits: {
        wallTimeoutMs: 1,
        cpuTimeMs: 1,
        memoryBytes: 1,
        maxProcesses: 1,
        tmpBytes: 1,
        outputBytesPerStream: 1,
      },
    });
    expect(await run.outcome).toMatchObject({ reason: 'sandbox_error' });
    expect(() => createKubernetesRuntimeList({ registry: null, namespace: 'default' })).toThrow(ConfigError);
    expect(() => loadConfig({ KUBERNETES_NAMESPACE: 'default' })).toThrow(/must not be default/);
  });
});
