/**
 * monitor fed by Knative's ApiServerSource (mode Resource): the Pod objects of a real API server, POSTed
 * to `/` as the adapter sends them, must end each execution exactly once however often they arrive.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeSkipReason } from '../../shared/sandbox/kubernetes/test-cluster';
import { PING_EVENT_TYPE, POD_EVENT_TYPES } from './app';
import { aReport, MonitorFixture, newExecutionId, waitFor } from './kube-fixture';
import { DELETED_MESSAGE } from './pod-translation';

const skip = kubeSkipReason();
if (skip) console.warn(`functions/monitor (ApiServerSource): ${skip}; skipping`);

/** The adapter's CloudEvent: binary mode, a fresh id per send, the API server as source, the Pod as data. */
function podEvent(
  type: string,
  pod: V1Pod,
  id: string = crypto.randomUUID(),
  mode: 'binary' | 'structured' = 'binary',
) {
  const subject = `/apis/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}`;
  const source = 'https://127.0.0.1:16443';
  if (mode === 'structured') {
    return new Request('http://monitor.local/', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id,
        type,
        source,
        subject,
        datacontenttype: 'application/json',
        data: pod,
      }),
    });
  }
  return new Request('http://monitor.local/', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': type,
      'ce-source': source,
      'ce-subject': subject,
    },
    body: JSON.stringify(pod),
  });
}

describe.skipIf(skip)('monitor fed by ApiServerSource CloudEvents from a real API server', () => {
  let fixture: MonitorFixture;
  let app: ReturnType<MonitorFixture['startMonitor']>['app'];
  beforeAll(async () => {
    fixture = await MonitorFixture.create('monitor-apiserversource');
    ({ app } = fixture.startMonitor({ MONITOR_POD_EVENTS: 'apiserversource' }));
  });
  afterAll(async () => {
    await fixture?.close();
  });

  const endedPod = async (name: string) =>
    waitFor(
      async () => {
        const pod = await fixture.readPod(name);
        return pod?.status?.phase === 'Succeeded' || pod?.status?.phase === 'Failed' ? pod : undefined;
      },
      { what: `${name} to end` },
    );

  it('the same ended pod, delivered again and again, ends its execution once; the pod is deleted', async () => {
    const executionId = newExecutionId();
    const created = await fixture.createPod({
      executionId,
      simulate: { outcome: 'Failed', exitCode: '3' },
      output: { stderr: 'boom\n', report: aReport({ exit_code: 3, stderr_bytes: 5 }) },
      configMap: true,
    });
    const name = created.metadata!.name!;
    const pod = await endedPod(name);

    const first = await app.fetch(podEvent(POD_EVENT_TYPES.update, pod, 'ce-1'));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: 'processed' });
    // The same CloudEvent again (a retried send), and the same pod under new ids (a restarted adapter).
    expect(await (await app.fetch(podEvent(POD_EVENT_TYPES.update, pod, 'ce-1'))).json()).toEqual({
      status: 'duplicate',
    });
    expect((await app.fetch(podEvent(POD_EVENT_TYPES.update, pod))).status).toBe(200);
    expect((await app.fetch(podEvent(POD_EVENT_TYPES.add, pod, undefined, 'structured'))).status).toBe(200);
    expect(await fixture.terminal(executionId)).toMatchObject({
      event_type: 'execution_failed',
      error_type: 'script_error',
      exit_code: 3,
      stderr: 'boom\n',
    });
    // Its deletion comes back as a delete event, with the final state: nothing more to say.
    await waitFor(async () => (await fixture.readPod(name)) === null, { what: `${name} to be deleted` });
    expect((await app.fetch(podEvent(POD_EVENT_TYPES.delete, pod))).status).toBe(200);
    await fixture.settle(500);
    expect(await fixture.counts(executionId)).toEqual({
      execution_started: 1,
      pod_terminated: 1,
      execution_failed: 1,
    });
    await waitFor(async () => (await fixture.objectsLeft('configmaps')).length === 0, {
      what: 'the ConfigMap to go with its pod',
    });
  });

  it('a running pod is the start; its deletion by someone else is a system error', async () => {
    const executionId = newExecutionId();
    const created = await fixture.createPod({ executionId });
    const running = await waitFor(
      async () => {
        const pod = await fixture.readPod(created.metadata!.name!);
        return pod?.status?.phase === 'Running' ? pod : undefined;
      },
      { what: 'the pod to run' },
    );
    expect((await app.fetch(podEvent(POD_EVENT_TYPES.update, running))).status).toBe(200);
    expect(await fixture.counts(executionId)).toEqual({ execution_started: 1 });
    await fixture.core.deleteNamespacedPod({ name: created.metadata!.name!, namespace: fixture.namespace });
    expect((await app.fetch(podEvent(POD_EVENT_TYPES.delete, running))).status).toBe(200);
    expect((await app.fetch(podEvent(POD_EVENT_TYPES.delete, running))).status).toBe(200);
    expect(await fixture.terminal(executionId)).toMatchObject({
      error_type: 'system_error',
      error_message: DELETED_MESSAGE,
    });
    await fixture.settle(500);
    expect(await fixture.counts(executionId)).toEqual({
      execution_started: 1,
      pod_terminated: 1,
      execution_failed: 1,
    });
  });

  it('a PingSource event makes good a pod event that never arrived: the pod is looked at again', async () => {
    const executionId = newExecutionId();
    const created = await fixture.createPod({
      executionId,
      simulate: { outcome: 'Succeeded' },
      output: { stdout: 'late\n', report: aReport({ stdout_bytes: 5 }) },
    });
    await endedPod(created.metadata!.name!);
    expect(await fixture.counts(executionId)).toEqual({});
    const ping = new Request('http://monitor.local/', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': crypto.randomUUID(),
        'ce-type': PING_EVENT_TYPE,
        'ce-source': '/apis/v1/namespaces/integr8scode/pingsources/integr8scode-executor-pods-resync',
      },
      body: JSON.stringify({ resync: 'executor-pods' }),
    });
    expect((await app.fetch(ping)).status).toBe(200);
    expect(await fixture.terminal(executionId)).toMatchObject({
      event_type: 'execution_completed',
      stdout: 'late\n',
    });
    expect(await fixture.readPod(created.metadata!.name!)).toBeNull();
  });

  it('other CloudEvent types and data that is not a Pod go to the dead-letter queue (4xx)', async () => {
    const executionId = newExecutionId();
    const pod = await fixture.createPod({ executionId });
    const reference = await app.fetch(podEvent('dev.knative.apiserver.ref.update', pod));
    expect(reference.status).toBe(400);
    const notAPod = await app.fetch(podEvent(POD_EVENT_TYPES.update, { kind: 'Pod' } as V1Pod));
    expect(notAPod.status).toBe(422);
    expect(await notAPod.json()).toMatchObject({ detail: expect.stringMatching(/^not a Pod: /) });
    const text = podEvent(POD_EVENT_TYPES.update, pod);
    const wrongType = await app.fetch(
      new Request(text, { headers: { ...Object.fromEntries(text.headers), 'content-type': 'text/plain' } }),
    );
    expect(wrongType.status).toBe(415);
  });
});
