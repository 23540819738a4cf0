/**
 * The Kubernetes backend against the local control plane (scripts/services/services.sh start kube):
 * its objects pass the API server's validation and Pod Security `restricted` admission, the
 * ConfigMap goes with its pod, cancel and compensation delete what they should, and every failure ends
 * the run with a clear outcome. KWOK plays the kubelet, so no container runs; the runner is tested on
 * its own (runner-script.test.ts).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/config';
import { createLogger } from '../../log';
import type { SandboxLimits } from '../port';
import { ANNOTATIONS, EXECUTION_ID_LABEL, executorName } from './contract';
import { describeApiError } from './kube-api';
import { createKubernetesSandbox, type KubernetesSandboxOptions } from './kubernetes-sandbox';
import type { PodSandbox, PodSandboxSpec } from './pod-run';
import { buildExecutorPod } from './pod-spec';
import { loadRuntimeRegistry } from './runtime-registry';
import {
  adminKubeConfig,
  createTestNamespace,
  deleteTestNamespace,
  executorPodManifest,
  kubeSkipReason,
  SIM,
  waitFor,
} from './test-cluster';

const skip = kubeSkipReason();
if (skip) console.warn(`shared/sandbox/kubernetes: ${skip}; skipping the Kubernetes backend tests`);

const log = createLogger('silent');
const registry = loadRuntimeRegistry();
const limits: SandboxLimits = {
  wallTimeoutMs: 5000,
  cpuTimeMs: 5000,
  memoryBytes: 128 * 1024 * 1024,
  maxProcesses: 64,
  tmpBytes: 16 * 1024 * 1024,
  outputBytesPerStream: 1024 * 1024,
};
const spec = (overrides: Partial<PodSandboxSpec> = {}): PodSandboxSpec => ({
  executionId: crypto.randomUUID(),
  language: 'python',
  version: '3.12',
  script: 'print("hi")\n',
  stdin: '',
  limits,
  pod: { owner: { userId: 'user-1', requestedEventId: 'event-1' } },
  ...overrides,
});

describe.skipIf(skip)('Kubernetes sandbox backend', () => {
  let admin: KubeConfig;
  let core: CoreV1Api;
  let namespace: string;
  const sandboxes: PodSandbox[] = [];
  const namespaces: string[] = [];

  const sandbox = (options: Partial<KubernetesSandboxOptions> = {}) => {
    const created = createKubernetesSandbox({
      namespace,
      kubeconfig: process.env.INTEGR8S_KUBECONFIG,
      registry,
      log,
      defaultResources: { cpuRequest: '100m', cpuLimit: '1', memoryRequest: '64Mi' },
      timing: { retryDelaysMs: [50, 100] },
      ...options,
    });
    sandboxes.push(created);
    return created;
  };
  const readPod = (name: string, ns = namespace) => core.readNamespacedPod({ name, namespace: ns });
  const gone = async (read: () => Promise<unknown>) => {
    try {
      await read();
      return false;
    } catch (error) {
      return (error as { code?: number }).code === 404;
    }
  };
  const annotate = (name: string, annotations: Record<string, string>) =>
    core.patchNamespacedPod(
      { name, namespace, body: { metadata: { annotations } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

  beforeAll(async () => {
    admin = adminKubeConfig();
    core = admin.makeApiClient(CoreV1Api);
    namespace = await createTestNamespace(admin, 'integr8s-sandbox');
    namespaces.push(namespace);
  });
  afterAll(async () => {
    for (const created of sandboxes) await created.close();
    for (const name of namespaces) await deleteTestNamespace(admin, name);
  });

  it('creates a pod and its ConfigMap that restricted Pod Security admits, exactly as built', async () => {
    const run = sandbox().start(spec());
    const pod = await run.created;
    expect(pod).toMatchObject({ namespace, podName: run.podName });
    const stored = await readPod(run.podName);
    expect(stored.metadata!.uid).toBe(pod!.uid);
    // Nothing dropped or defaulted away: the API server kept every hardening field.
    expect(stored.spec).toMatchObject({
      hostUsers: false,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: 'Never',
      activeDeadlineSeconds: 35,
    });
    expect(stored.spec!.containers[0]!.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(stored.metadata!.annotations).toMatchObject({ [ANNOTATIONS.userId]: 'user-1' });
    const configMap = await core.readNamespacedConfigMap({ name: run.podName, namespace });
    expect(configMap.metadata!.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Pod', name: run.podName, uid: pod!.uid, controller: true }),
    ]);
    expect(Object.keys(configMap.data!).sort()).toEqual(['main.py', 'runner.sh', 'stdin']);
    expect(configMap.immutable).toBe(true);
  });

  it('has Pod Security enforced: a weakened pod is refused', async () => {
    const pod: V1Pod = buildExecutorPod({
      namespace,
      executionId: crypto.randomUUID(),
      runtime: registry.find('python', '3.12')!,
      limits,
      resources: { cpuRequest: '100m', cpuLimit: '1', memoryRequest: '64Mi', memoryLimit: '128Mi' },
      owner: {},
    });
    const container = pod.spec!.containers[0]!;
    container.securityContext = {
      ...container.securityContext,
      allowPrivilegeEscalation: true,
      capabilities: { add: ['NET_RAW'] },
      seccompProfile: { type: 'Unconfined' },
    };
    const refusal = await core.createNamespacedPod({ namespace, body: pod }).then(
      () => 'admitted',
      (error) => describeApiError(error),
    );
    expect(refusal).toMatch(/^403 pods "exec-.*" is forbidden: violates PodSecurity "restricted:latest": /);
    expect(refusal).toContain('allowPrivilegeEscalation != false');
    expect(refusal).toContain('must not include "NET_RAW"');
    expect(refusal).toContain('seccompProfile');
  });

  it('resolves the outcome when the pod ends, and the ConfigMap goes with the pod', async () => {
    const run = sandbox().start(spec());
    const pod = await run.created;
    await annotate(run.podName, { [SIM.outcome]: 'Failed', [SIM.exitCode]: '3' });
    const outcome = await run.outcome;
    expect(outcome).toMatchObject({ reason: 'exited', exitCode: 3 });
    expect((await core.readNamespacedConfigMap({ name: run.podName, namespace })).metadata!.uid).toBeTruthy();
    await core.deleteNamespacedPod({ name: run.podName, namespace, body: { gracePeriodSeconds: 0 } });
    await waitFor(() => gone(() => core.readNamespacedConfigMap({ name: run.podName, namespace })), {
      timeoutMs: 30_000,
      what: `garbage collection of ConfigMap ${run.podName} (owner ${pod!.uid})`,
    });
  });

  it('resolves the outcome when someone else deletes the pod', async () => {
    const run = sandbox().start(spec());
    await run.created;
    await core.deleteNamespacedPod({ name: run.podName, namespace, body: { gracePeriodSeconds: 0 } });
    expect(await run.outcome).toMatchObject({
      reason: 'sandbox_error',
      message: 'the pod was deleted before it finished',
    });
  });

  it('frees the slot of a pod still there long after its deadline, and leaves the pod to the sweeper', async () => {
    const executionId = crypto.randomUUID();
    // Pending for ever, so KWOK never ends it at its deadline.
    const stuck = executorPodManifest({
      executionId,
      namespace,
      simulate: { [SIM.waitingReason]: 'ImagePullBackOff' },
    });
    stuck.spec!.activeDeadlineSeconds = 1;
    const { uid } = (await core.createNamespacedPod({ namespace, body: stuck })).metadata!;
    const timing = { retryDelaysMs: [], safetyGraceMs: 100, recheckMs: 100, rechecks: 2 };
    const run = sandbox({ timing }).follow(executionId);
    expect(await run.created).toMatchObject({ uid });
    expect(await run.outcome).toMatchObject({
      reason: 'sandbox_error',
      message: 'the pod was still there long after its deadline',
    });
    const still = await readPod(run.podName);
    expect(still.metadata).toMatchObject({ uid });
    expect(still.metadata!.deletionTimestamp).toBeUndefined();
  });

  it('cancel deletes the pod at once', async () => {
    const run = sandbox().start(spec());
    await run.created;
    await run.cancel();
    expect(await gone(() => readPod(run.podName))).toBe(true);
    expect(await run.outcome).toMatchObject({ reason: 'cancelled' });
  });

  it('cancel while the objects are being created leaves nothing behind', async () => {
    const backend = sandbox();
    const run = backend.start(spec());
    await run.cancel();
    expect(await run.created).toBeNull();
    expect(await run.outcome).toMatchObject({ reason: 'cancelled' });
    expect(await gone(() => readPod(run.podName))).toBe(true);
  });

  it('deletes an execution pod it did not start itself (another replica, a restart)', async () => {
    const run = sandbox().start(spec());
    await run.created;
    await sandbox().deletePod(run.podName.replace(/^exec-/, ''));
    expect(await gone(() => readPod(run.podName))).toBe(true);
    await sandbox().deletePod(crypto.randomUUID()); // nothing there: fine
  });

  it('refuses the default namespace', () => {
    expect(() => sandbox({ namespace: 'default' })).toThrow(ConfigError);
  });

  it('ends with a clear error, and no objects, for an unknown runtime or a script too big', async () => {
    const backend = sandbox();
    const unknown = backend.start(spec({ language: 'cobol', version: '85' }));
    expect(await unknown.created).toBeNull();
    const outcome = await unknown.outcome;
    expect(outcome).toMatchObject({ reason: 'sandbox_error', exitCode: -1 });
    expect(outcome.message).toMatch(/^runtime cobol 85 is not offered here \(offered: python 3\.12, /);
    const huge = backend.start(spec({ script: 'x'.repeat(1024 * 1024) }));
    expect((await huge.outcome).message).toMatch(/a ConfigMap holds at most 1048576$/);
    for (const run of [unknown, huge]) expect(await gone(() => readPod(run.podName))).toBe(true);
  });

  it('ends with the API server’s reason when the pod is refused', async () => {
    const run = sandbox({ runtimeClassName: 'no-such-class' }).start(spec());
    expect(await run.created).toBeNull();
    const outcome = await run.outcome;
    expect(outcome.reason).toBe('sandbox_error');
    expect(outcome.message).toMatch(
      new RegExp(`^could not create pod ${run.podName} in ${namespace}: 403 .*no-such-class`),
    );
  });

  it('deletes the pod again when its ConfigMap cannot be created (compensation)', async () => {
    const quotaNamespace = await createTestNamespace(admin, 'integr8s-quota');
    namespaces.push(quotaNamespace);
    // Only kube-root-ca.crt fits: every further ConfigMap is refused.
    await core.createNamespacedResourceQuota({
      namespace: quotaNamespace,
      body: { metadata: { name: 'no-configmaps' }, spec: { hard: { configmaps: '1' } } },
    });
    await waitFor(
      async () =>
        (await core.readNamespacedResourceQuota({ name: 'no-configmaps', namespace: quotaNamespace })).status
          ?.used?.configmaps === '1',
      { timeoutMs: 30_000, what: 'the quota controller to count ConfigMaps' },
    );
    // The ending is handed over while the pod still exists, then the pod goes.
    const handedOver: { uid: string; podStillThere: boolean; message: string | null }[] = [];
    const run = sandbox({ namespace: quotaNamespace }).start(spec(), {
      beforeCompensation: async (pod, ending) => {
        const stored = await readPod(pod.podName, quotaNamespace);
        handedOver.push({
          uid: pod.uid,
          podStillThere: stored.metadata!.uid === pod.uid,
          message: ending.message,
        });
      },
    });
    expect(await run.created).toBeNull();
    const outcome = await run.outcome;
    expect(outcome.reason).toBe('sandbox_error');
    expect(outcome.message).toMatch(
      new RegExp(
        `^could not create ConfigMap ${run.podName} in ${quotaNamespace}: 403 .*exceeded quota.*; its pod is deleted$`,
      ),
    );
    expect(handedOver).toEqual([{ uid: expect.any(String), podStillThere: true, message: outcome.message }]);
    expect(await gone(() => readPod(run.podName, quotaNamespace))).toBe(true);
  });

  it('says clearly when the API server cannot be reached, and reports it in check()', async () => {
    const kubeconfig = path.join(tmpdir(), `integr8s-unreachable-${process.pid}.yaml`);
    writeFileSync(
      kubeconfig,
      readFileSync(process.env.INTEGR8S_KUBECONFIG!, 'utf8').replace(
        /server: .*/,
        'server: https://127.0.0.1:1',
      ),
    );
    try {
      const backend = sandbox({ kubeconfig });
      const run = backend.start(spec());
      expect(await run.created).toBeNull();
      expect((await run.outcome).message).toMatch(/^could not create pod .*: .*ECONNREFUSED/);
      const status = await backend.check();
      expect(status.ready).toBe(false);
      expect(status.problem).toMatch(/^cannot list pods in .* at https:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
      expect((await sandbox().check()).ready).toBe(true);
    } finally {
      rmSync(kubeconfig, { force: true });
    }
  });

  it('labels every object with the execution id', async () => {
    const input = spec();
    const run = sandbox().start(input);
    await run.created;
    const pods = await core.listNamespacedPod({
      namespace,
      labelSelector: `${EXECUTION_ID_LABEL}=${input.executionId}`,
    });
    expect(pods.items.map((p) => p.metadata!.name)).toEqual([executorName(input.executionId)]);
  });
});
