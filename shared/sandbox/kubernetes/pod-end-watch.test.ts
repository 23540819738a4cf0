/** The watch that frees run-pod's slots, against the local control plane (KWOK ends the pods). */
import { CoreV1Api, type KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../log';
import { PodEndWatch } from './pod-end-watch';
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
if (skip) console.warn(`shared/sandbox/kubernetes: ${skip}; skipping the pod end watch tests`);

describe.skipIf(skip)('pod end watch', () => {
  let admin: KubeConfig;
  let core: CoreV1Api;
  let namespace: string;
  const watches: PodEndWatch[] = [];
  const newWatch = () => {
    const watch = new PodEndWatch(core, new Watch(admin), namespace, createLogger('silent'));
    watches.push(watch);
    return watch;
  };
  const createPod = async (simulate: Record<string, string> = {}) => {
    const pod = await core.createNamespacedPod({
      namespace,
      body: executorPodManifest({ executionId: crypto.randomUUID(), namespace, simulate }),
    });
    return { name: pod.metadata!.name!, uid: pod.metadata!.uid! };
  };
  const phaseOf = async (name: string) => (await core.readNamespacedPod({ name, namespace })).status?.phase;

  beforeAll(async () => {
    admin = adminKubeConfig();
    core = admin.makeApiClient(CoreV1Api);
    namespace = await createTestNamespace(admin, 'integr8s-podwatch');
  });
  afterAll(async () => {
    for (const watch of watches) await watch.stop();
    await deleteTestNamespace(admin, namespace);
  });

  it('reports a pod that ends while it is followed', async () => {
    const watch = newWatch();
    const pod = await createPod({ [SIM.outcome]: 'Succeeded', [SIM.runFor]: '300ms' });
    const end = await watch.waitForEnd(pod.name, pod.uid);
    expect(end.deleted).toBe(false);
    expect(end.pod?.status?.phase).toBe('Succeeded');
  });

  it('reports a pod that had ended, or was deleted, before the run asked', async () => {
    const watch = newWatch();
    watch.start();
    const ended = await createPod({ [SIM.outcome]: 'Failed' });
    await waitFor(async () => (await phaseOf(ended.name)) === 'Failed', { what: 'the pod to fail' });
    // Let the watch see it first.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await watch.waitForEnd(ended.name, ended.uid)).pod?.status?.phase).toBe('Failed');

    const deleted = await createPod();
    await core.deleteNamespacedPod({ name: deleted.name, namespace, body: { gracePeriodSeconds: 0 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await watch.waitForEnd(deleted.name, deleted.uid)).toMatchObject({ deleted: true });
  });

  it('reports a pod missing from its first list as gone, and a deleted pod as gone', async () => {
    const watch = newWatch();
    const never = watch.waitForEnd('exec-never-created', 'no-uid');
    expect(await never).toEqual({ pod: null, deleted: true });

    const first = await createPod();
    const followed = watch.waitForEnd(first.name, first.uid);
    await core.deleteNamespacedPod({ name: first.name, namespace, body: { gracePeriodSeconds: 0 } });
    expect(await followed).toMatchObject({ deleted: true });
  });

  it('lets go of every run when stopped', async () => {
    const watch = newWatch();
    const pod = await createPod();
    const followed = watch.waitForEnd(pod.name, pod.uid);
    await watch.stop();
    expect(await followed).toEqual({ pod: null, deleted: false });
    expect(await watch.waitForEnd(pod.name, pod.uid)).toEqual({ pod: null, deleted: false });
  });
});
