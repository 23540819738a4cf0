/**
 * The watch that frees run-pod's slots: against the local control plane (KWOK ends the pods), and against
 * a scripted API server for a watch that has to list again.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../log';
import { PodEndWatch } from './pod-end-watch';
import { SCRIPTED_NAMESPACE, type ScriptedApi, scriptedPod, scriptedPodApi } from './scripted-api';
import {
  adminKubeConfig,
  createTestNamespace,
  deleteTestNamespace,
  executorPodManifest,
  kubeSkipReason,
  SIM,
  waitFor,
} from './test-cluster';

const log = createLogger('silent');
const skip = kubeSkipReason();
if (skip) console.warn(`shared/sandbox/kubernetes: ${skip}; skipping the pod end watch tests`);

describe.skipIf(skip)('pod end watch', () => {
  let admin: KubeConfig;
  let core: CoreV1Api;
  let namespace: string;
  const watches: PodEndWatch[] = [];
  const newWatch = () => {
    const watch = new PodEndWatch(admin, namespace, log);
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
    const end = await watch.waitForEnd(pod.uid);
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
    expect((await watch.waitForEnd(ended.uid)).pod?.status?.phase).toBe('Failed');

    const deleted = await createPod();
    await core.deleteNamespacedPod({ name: deleted.name, namespace, body: { gracePeriodSeconds: 0 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await watch.waitForEnd(deleted.uid)).toMatchObject({ deleted: true });
  });

  it('reports a pod missing from its first list as gone, and a deleted pod as gone', async () => {
    const watch = newWatch();
    const never = watch.waitForEnd('no-such-uid');
    expect(await never).toEqual({ pod: null, deleted: true });

    const first = await createPod();
    const followed = watch.waitForEnd(first.uid);
    await core.deleteNamespacedPod({ name: first.name, namespace, body: { gracePeriodSeconds: 0 } });
    expect(await followed).toMatchObject({ deleted: true });
  });

  it('lets go of every run when stopped', async () => {
    const watch = newWatch();
    const pod = await createPod();
    const followed = watch.waitForEnd(pod.uid);
    await watch.stop();
    expect(await followed).toEqual({ pod: null, deleted: false });
    expect(await watch.waitForEnd(pod.uid)).toEqual({ pod: null, deleted: false });
  });
});

describe('pod end watch, listing again', () => {
  /** The end, or 'waiting' if there is none soon. */
  const soon = <T>(promise: Promise<T>) =>
    Promise.race([promise, new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 1000))]);
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const started = async (pods: V1Pod[], beforeStart = (_api: ScriptedApi) => {}) => {
    const api = await scriptedPodApi(pods);
    cleanups.push(() => api.close());
    beforeStart(api);
    const watch = new PodEndWatch(api.config, SCRIPTED_NAMESPACE, log);
    cleanups.push(() => watch.stop());
    watch.start();
    return { api, watch };
  };

  it('tells runs that asked before and after a re-list that a pod missing from it is gone', async () => {
    const { api, watch } = await started([scriptedPod('exec-a', 'uid-a'), scriptedPod('exec-b', 'uid-b')]);
    await waitFor(() => api.watches() === 1, { what: 'the first list' });
    const before = watch.waitForEnd('uid-a');
    const unseen = watch.waitForEnd('uid-unseen'); // created and deleted while the watch was away
    // exec-a was replaced by a pod of the same name: the re-list shows only the new one.
    api.pods = [scriptedPod('exec-a', 'uid-a2'), scriptedPod('exec-b', 'uid-b')];
    api.expire();
    expect(await soon(before)).toMatchObject({ pod: { metadata: { uid: 'uid-a' } }, deleted: true });
    expect(await soon(unseen)).toEqual({ pod: null, deleted: true });
    expect(await soon(watch.waitForEnd('uid-a'))).toMatchObject({ deleted: true });
    expect(await soon(watch.waitForEnd('uid-b'))).toBe('waiting');
  });

  it('does not take a pod missing from a list that began before the run asked for gone', async () => {
    let release = () => {};
    const { api, watch } = await started([], (api) => {
      release = api.holdLists();
    });
    // The first list has begun; the pod is created after it.
    const created = watch.waitForEnd('uid-new');
    release();
    await waitFor(() => api.watches() === 1, { what: 'the first list' });
    expect(await soon(created)).toBe('waiting');
    api.expire();
    expect(await soon(created)).toEqual({ pod: null, deleted: true });
  });
});
