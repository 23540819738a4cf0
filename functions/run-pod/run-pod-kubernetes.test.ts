/**
 * run-pod with the Kubernetes backend, against the local control plane: it creates the pod, publishes
 * `pod_created` with the real names and nothing else of the pod's life (monitor's part), and frees each
 * concurrency slot when the pod ends, is cancelled, or could not be made.
 */
import { CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UserRecord } from '../../shared/domain/user';
import { toBinaryRequest } from '../../shared/events/cloudevents';
import type { DomainEvent, EventOf } from '../../shared/events/schemas';
import { submitExecution } from '../../shared/executions/submission';
import { createLogger } from '../../shared/log';
import { executorName, executorPodCause } from '../../shared/sandbox/kubernetes/contract';
import { createKubernetesSandbox } from '../../shared/sandbox/kubernetes/kubernetes-sandbox';
import type { PodSandbox } from '../../shared/sandbox/kubernetes/pod-run';
import { loadRuntimeRegistry } from '../../shared/sandbox/kubernetes/runtime-registry';
import {
  adminKubeConfig,
  createTestNamespace,
  deleteTestNamespace,
  kubeSkipReason,
  SIM,
  waitFor,
} from '../../shared/sandbox/kubernetes/test-cluster';
import { aUser } from '../../shared/store/contracts/fixtures';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { createRunPodApp } from './app';

const skip = kubeSkipReason();
if (skip) console.warn(`functions/run-pod: ${skip}; skipping the Kubernetes tests`);

describe.skipIf(skip)('run-pod on Kubernetes', () => {
  let admin: KubeConfig;
  let core: CoreV1Api;
  let namespace: string;
  let platform: TestPlatform | undefined;

  beforeAll(async () => {
    admin = adminKubeConfig();
    core = admin.makeApiClient(CoreV1Api);
    namespace = await createTestNamespace(admin, 'integr8s-runpod');
  });
  afterAll(async () => {
    await deleteTestNamespace(admin, namespace);
  });
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });

  const settle = () => new Promise((resolve) => setTimeout(resolve, 700));
  const newSandbox = (ns = namespace) =>
    createKubernetesSandbox({
      namespace: ns,
      kubeconfig: process.env.INTEGR8S_KUBECONFIG,
      registry: loadRuntimeRegistry(),
      log: createLogger('silent'),
      defaultResources: { cpuRequest: '100m', cpuLimit: '1', memoryRequest: '64Mi' },
    });

  /** A platform and run-pod; `before` sets the scene before run-pod starts (and recovers). */
  async function start(
    capacity: number,
    before?: (p: TestPlatform, user: UserRecord) => Promise<void>,
    sandbox: PodSandbox = newSandbox(),
  ) {
    platform = await createTestPlatform(
      {
        MAX_CONCURRENT_EXECUTIONS: String(capacity),
        SANDBOX_BACKEND: 'kubernetes',
        KUBERNETES_NAMESPACE: namespace,
      },
      { sandbox },
    );
    const p = platform;
    const user = aUser({ user_id: crypto.randomUUID(), username: 'k8s', email: 'k8s@example.com' });
    await p.store.users.create(user);
    await before?.(p, user);
    const app = createRunPodApp(p);
    // Its start-up recovery admits what is queued: let it finish before the test submits anything.
    await settle();
    const deliver = async (event: DomainEvent) =>
      expect((await app.fetch(toBinaryRequest(event, 'http://run-pod.local/'))).status).toBe(200);
    const submit = async () => {
      const { execution_id: id } = await submitExecution(p, user, {
        script: 'print(1)',
        lang: 'python',
        stdin: '',
      });
      const [requested] = await p.store.events.listByAggregate(id);
      return { id, requested: requested!.event as EventOf<'execution_requested'> };
    };
    const types = async (id: string) =>
      (await p.store.events.listByAggregate(id)).map((s) => s.event.event_type);
    const podCreated = (id: string) =>
      vi.waitFor(async () => expect(await types(id)).toContain('pod_created'));
    return { p, user, deliver, submit, types, podCreated };
  }

  const endPod = (id: string) =>
    core.patchNamespacedPod(
      {
        name: executorName(id),
        namespace,
        body: { metadata: { annotations: { [SIM.outcome]: 'Succeeded' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const podExists = (id: string) =>
    core.readNamespacedPod({ name: executorName(id), namespace }).then(
      () => true,
      () => false,
    );

  it('creates the pod and publishes only pod_created, with the real pod name and namespace', async () => {
    const { p, deliver, submit, types, podCreated } = await start(2);
    const { id, requested } = await submit();
    await deliver(requested);
    await podCreated(id);
    const [created] = await p.store.events.listByAggregate(id, { eventTypes: ['pod_created'] });
    expect(created!.event).toMatchObject({ pod_name: executorName(id), namespace });
    expect(await podExists(id)).toBe(true);
    // KWOK has it running by now; that is monitor's to report, not run-pod's.
    await settle();
    expect(await types(id)).toEqual(['execution_requested', 'pod_created']);
  });

  it('holds the slot until the pod ends, then admits the next execution', async () => {
    const { deliver, submit, types, podCreated } = await start(1);
    const first = await submit();
    const second = await submit();
    await deliver(first.requested);
    await deliver(second.requested);
    await podCreated(first.id);
    await settle();
    expect(await types(second.id)).toEqual(['execution_requested']);
    await endPod(first.id);
    await podCreated(second.id);
  });

  it('cancel deletes the running pod and frees the slot', async () => {
    const { p, user, deliver, submit, podCreated } = await start(1);
    const first = await submit();
    const second = await submit();
    await deliver(first.requested);
    await deliver(second.requested);
    await podCreated(first.id);
    await deliver(
      p.events.create<EventOf<'execution_cancelled'>>(
        {
          event_type: 'execution_cancelled',
          execution_id: first.id,
          cancelled_by: user.user_id,
          reason: '',
          force_terminated: true,
        },
        { userId: user.user_id },
      ),
    );
    expect(await podExists(first.id)).toBe(false);
    await podCreated(second.id);
  });

  it('ends a run that gets no pod with pod_terminated (sandbox_error) and frees the slot', async () => {
    const { p, deliver, submit, types, podCreated } = await start(1);
    const broken = await submit();
    const next = await submit();
    // A runtime the registry does not offer (submit would refuse it; a stale request may carry one).
    await deliver({
      ...broken.requested,
      event_id: crypto.randomUUID(),
      language: 'cobol',
      language_version: '85',
    });
    await deliver(next.requested);
    await vi.waitFor(async () => expect(await types(broken.id)).toContain('pod_terminated'));
    const [terminated] = await p.store.events.listByAggregate(broken.id, { eventTypes: ['pod_terminated'] });
    expect(terminated!.event).toMatchObject({
      reason: 'sandbox_error',
      exit_code: -1,
      message: expect.stringMatching(/^runtime cobol 85 is not offered here/),
    });
    expect(await types(broken.id)).not.toContain('pod_created');
    await podCreated(next.id);
  });

  it('after a restart, takes the slot of an execution whose pod still runs before admitting others', async () => {
    let running = '';
    let waiting = '';
    const { podCreated, types } = await start(1, async (p, user) => {
      const submitted = () => submitExecution(p, user, { script: 'print(1)', lang: 'python', stdin: '' });
      running = (await submitted()).execution_id;
      // Started by the run-pod before the restart: its pod exists and the execution is running.
      const before = newSandbox();
      await before.start({
        executionId: running,
        language: 'python',
        version: '3.12',
        script: 'print(1)',
        stdin: '',
        limits: {
          wallTimeoutMs: 5000,
          cpuTimeMs: 5000,
          memoryBytes: 128 << 20,
          maxProcesses: 64,
          tmpBytes: 16 << 20,
          outputBytesPerStream: 1 << 20,
        },
      }).created;
      await before.close();
      await p.store.executions.transition(running, ['queued'], {
        status: 'running',
        updated_at: new Date().toISOString(),
      });
      waiting = (await submitted()).execution_id;
    });
    await settle();
    expect(await types(waiting)).toEqual(['execution_requested']);
    await endPod(running);
    await podCreated(waiting);
  });

  it('when the ConfigMap is refused, publishes the ending with the pod-derived id before deleting the pod', async () => {
    const quotaNamespace = await createTestNamespace(admin, 'integr8s-runpod-quota');
    try {
      await core.createNamespacedResourceQuota({
        namespace: quotaNamespace,
        body: { metadata: { name: 'no-configmaps' }, spec: { hard: { configmaps: '1' } } },
      });
      await waitFor(
        async () =>
          (await core.readNamespacedResourceQuota({ name: 'no-configmaps', namespace: quotaNamespace }))
            .status?.used?.configmaps === '1',
        { timeoutMs: 30_000, what: 'the quota controller to count ConfigMaps' },
      );
      // Which pod was compensated, as the backend tells run-pod.
      const backend = newSandbox(quotaNamespace);
      const uids: string[] = [];
      const sandbox: PodSandbox = Object.assign(Object.create(backend) as PodSandbox, {
        start: (...[spec, hooks]: Parameters<PodSandbox['start']>) =>
          backend.start(spec, {
            beforeCompensation: async (pod, outcome) => {
              uids.push(pod.uid);
              await hooks?.beforeCompensation?.(pod, outcome);
            },
          }),
      });
      const { p, deliver, submit, types } = await start(1, undefined, sandbox);
      const { id, requested } = await submit();
      await deliver(requested);
      await vi.waitFor(async () => expect(await types(id)).toContain('pod_terminated'));
      await settle();
      const terminated = await p.store.events.listByAggregate(id, { eventTypes: ['pod_terminated'] });
      expect(terminated).toHaveLength(1);
      expect(terminated[0]!.event).toMatchObject({
        reason: 'sandbox_error',
        message: expect.stringMatching(/^could not create ConfigMap .*exceeded quota.*; its pod is deleted$/),
      });
      const expectedId = p.events.create({ ...terminated[0]!.event, event_type: 'pod_terminated' } as never, {
        causedBy: executorPodCause(uids[0]!),
      }).event_id;
      expect(terminated[0]!.event.event_id).toBe(expectedId);
      expect(await types(id)).not.toContain('pod_created');
    } finally {
      await deleteTestNamespace(admin, quotaNamespace);
    }
  });
});
