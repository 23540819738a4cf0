/**
 * monitor started as the embedded server and the stack start it: from the configuration alone
 * (SANDBOX_BACKEND=kubernetes, KUBERNETES_NAMESPACE, KUBECONFIG), it watches the namespace itself.
 * Its own file: a watch started this way lives as long as the process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminKubeConfig,
  createTestNamespace,
  deleteTestNamespace,
  executorPodManifest,
  kubeSkipReason,
  SIM,
  waitFor,
} from '../../shared/sandbox/kubernetes/test-cluster';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { createMonitorApp } from './app';

const skip = kubeSkipReason();
if (skip) console.warn(`functions/monitor (configured): ${skip}; skipping`);

describe.skipIf(skip)('monitor configured for the Kubernetes backend', () => {
  const admin = skip ? null : adminKubeConfig();
  let namespace: string;
  let platform: TestPlatform;
  beforeAll(async () => {
    namespace = await createTestNamespace(admin!, 'monitor-configured');
    platform = await createTestPlatform({
      SANDBOX_BACKEND: 'kubernetes',
      KUBERNETES_NAMESPACE: namespace,
      KUBECONFIG: process.env.INTEGR8S_KUBECONFIG!,
    });
  });
  afterAll(async () => {
    await platform?.close();
    if (namespace) await deleteTestNamespace(admin!, namespace);
  });

  it('watches its namespace from the configuration alone and ends each pod once', async () => {
    createMonitorApp(platform);
    const executionId = crypto.randomUUID();
    const { CoreV1Api } = await import('@kubernetes/client-node');
    await admin!.makeApiClient(CoreV1Api).createNamespacedPod({
      namespace,
      body: executorPodManifest({
        executionId,
        namespace,
        simulate: { [SIM.outcome]: 'Failed', [SIM.exitCode]: '7' },
      }),
    });
    const failed = await waitFor(
      async () =>
        (await platform.store.events.listByAggregate(executionId, { eventTypes: ['execution_failed'] }))[0],
      { what: 'the execution to fail' },
    );
    expect(failed.event).toMatchObject({ error_type: 'script_error', exit_code: 7 });
  });
});
