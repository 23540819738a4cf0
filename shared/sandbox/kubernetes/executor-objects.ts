/**
 * Creating and removing one execution's objects, as a small saga: the Pod first, then the ConfigMap it
 * mounts, owned by the Pod's uid (so it can only exist with its Pod and goes with it); when the
 * ConfigMap cannot be made, the Pod is deleted again. A Pod without its ConfigMap just waits in
 * ContainerCreating (the kubelet retries the mount), so the order never runs a script half set up.
 * Names are fixed per execution, so a retried creation finds its own objects (409) and adopts them.
 */
import type { CoreV1Api, V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { EXECUTION_ID_LABEL } from './contract';
import { describeApiError, statusOf, withRetries } from './kube-api';

export interface ApiCalls {
  core: CoreV1Api;
  namespace: string;
  /** Waits between attempts at a call that failed transiently (unreachable, 429, 5xx). */
  retryDelaysMs: readonly number[];
  callTimeoutMs: number;
}

export type Creation = { ok: true; uid: string } | { ok: false; cancelled: boolean; message: string };

const call = <T>(api: ApiCalls, fn: () => Promise<T>) =>
  withRetries(fn, api.retryDelaysMs, api.callTimeoutMs);

/** Deletes the pod at once (grace 0); only this uid when given. Already gone is fine. */
export async function deletePodNow(api: ApiCalls, name: string, uid?: string): Promise<void> {
  try {
    await call(api, () =>
      api.core.deleteNamespacedPod({
        name,
        namespace: api.namespace,
        body: { gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) },
      }),
    );
  } catch (error) {
    // 404: gone already; 409: the uid precondition failed, so the pod meant is gone too.
    if (statusOf(error) === 404 || statusOf(error) === 409) return;
    throw error;
  }
}

async function createPod(api: ApiCalls, pod: V1Pod, executionId: string): Promise<string> {
  const name = pod.metadata!.name!;
  try {
    const created = await call(api, () =>
      api.core.createNamespacedPod({ namespace: api.namespace, body: pod }),
    );
    return created.metadata!.uid!;
  } catch (error) {
    if (statusOf(error) !== 409) throw error;
    const existing = await call(api, () => api.core.readNamespacedPod({ name, namespace: api.namespace }));
    if (existing.metadata?.labels?.[EXECUTION_ID_LABEL] !== executionId) {
      throw new Error(`a pod named ${name} already exists and is not this execution's`);
    }
    return existing.metadata!.uid!;
  }
}

async function createConfigMap(api: ApiCalls, configMap: V1ConfigMap, podUid: string): Promise<void> {
  const name = configMap.metadata!.name!;
  const create = () =>
    call(api, () => api.core.createNamespacedConfigMap({ namespace: api.namespace, body: configMap }));
  try {
    await create();
  } catch (error) {
    if (statusOf(error) !== 409) throw error;
    const existing = await call(api, () =>
      api.core.readNamespacedConfigMap({ name, namespace: api.namespace }),
    );
    if (existing.metadata?.ownerReferences?.some((owner) => owner.uid === podUid)) return;
    // Left by an earlier pod of this name: replace it.
    await call(api, () =>
      api.core.deleteNamespacedConfigMap({
        name,
        namespace: api.namespace,
        body: { preconditions: { uid: existing.metadata!.uid! } },
      }),
    );
    await create();
  }
}

/**
 * Creates the pod, then its ConfigMap (built for the pod's uid); `cancelled` is asked between the steps.
 * Never throws: a failure says what failed, in the API server's words, and what was cleaned up.
 */
export async function createExecutorObjects(
  api: ApiCalls,
  input: {
    pod: V1Pod;
    executionId: string;
    configMapFor(podUid: string): V1ConfigMap;
    cancelled(): boolean;
    /** Awaited before a pod is deleted again because its ConfigMap could not be made; may not throw. */
    beforeCompensation(podUid: string, message: string): Promise<void>;
  },
): Promise<Creation> {
  const name = input.pod.metadata!.name!;
  let uid: string;
  try {
    uid = await createPod(api, input.pod, input.executionId);
  } catch (error) {
    const message = `could not create pod ${name} in ${api.namespace}: ${describeApiError(error)}`;
    // Unanswered is not refused: the pod may exist after all.
    if (statusOf(error) === undefined) await deletePodNow(api, name).catch(() => undefined);
    return { ok: false, cancelled: false, message };
  }
  if (input.cancelled()) {
    await deletePodNow(api, name, uid).catch(() => undefined);
    return { ok: false, cancelled: true, message: 'cancelled' };
  }
  try {
    await createConfigMap(api, input.configMapFor(uid), uid);
  } catch (error) {
    const message = `could not create ConfigMap ${name} in ${api.namespace}: ${describeApiError(error)}; its pod is deleted`;
    await input.beforeCompensation(uid, message);
    try {
      await deletePodNow(api, name, uid);
      return { ok: false, cancelled: false, message };
    } catch (deletion) {
      // It waits for its ConfigMap until its deadline, or the sweeper, ends it.
      return { ok: false, cancelled: false, message: `${message} (failed: ${describeApiError(deletion)})` };
    }
  }
  if (input.cancelled()) {
    await deletePodNow(api, name, uid).catch(() => undefined);
    return { ok: false, cancelled: true, message: 'cancelled' };
  }
  return { ok: true, uid };
}
