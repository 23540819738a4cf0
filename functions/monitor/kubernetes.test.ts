/**
 * monitor's pod watch and sweeper against the local Kubernetes control plane: executor-like pods in a
 * restricted namespace, ended by KWOK as each simulated outcome, must each become the right execution
 * event exactly once, with the pod and its ConfigMap gone afterwards.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newExecution } from '../../shared/domain/execution';
import type { EventOf } from '../../shared/events/schemas';
import { kubeSkipReason } from '../../shared/sandbox/kubernetes/test-cluster';
import { aReport, MonitorFixture, newExecutionId, waitFor } from './kube-fixture';
import { DELETED_MESSAGE } from './pod-translation';
import { STRANDED_MESSAGE } from './stranded';

const skip = kubeSkipReason();
if (skip) console.warn(`functions/monitor (Kubernetes): ${skip}; skipping`);

describe.skipIf(skip)('monitor watching executor pods on a real API server', () => {
  let fixture: MonitorFixture;
  beforeAll(async () => {
    fixture = await MonitorFixture.create('monitor-watch');
  });
  afterAll(async () => {
    await fixture?.close();
  });
  afterEach(async () => {
    await fixture?.stopMonitors();
  });

  it('each simulated outcome becomes the right execution event, once; the pod and its ConfigMap go', async () => {
    fixture.startMonitor();
    const cases = [
      {
        name: 'Succeeded',
        simulate: { outcome: 'Succeeded', runFor: '300ms' },
        output: {
          stdout: 'hello\n',
          stderr: 'warn\n',
          report: aReport({ stdout_bytes: 6, stderr_bytes: 5 }),
        },
        expected: {
          event_type: 'execution_completed',
          exit_code: 0,
          stdout: 'hello\n',
          stderr: 'warn\n',
          resource_usage: { execution_time_wall_seconds: 0.12, cpu_time_seconds: 0.08, peak_memory_kb: 9216 },
        },
        ran: true,
      },
      {
        name: 'Failed',
        simulate: { outcome: 'Failed', exitCode: '3' },
        output: { stderr: 'Traceback\n', report: aReport({ exit_code: 3, stderr_bytes: 10 }) },
        expected: {
          event_type: 'execution_failed',
          error_type: 'script_error',
          exit_code: 3,
          stderr: 'Traceback\n',
        },
        ran: true,
      },
      {
        name: 'Failed without a report',
        simulate: { outcome: 'Failed', exitCode: '2' },
        expected: { event_type: 'execution_failed', error_type: 'script_error', exit_code: 2 },
        ran: true,
      },
      {
        name: 'OOMKilled',
        simulate: { outcome: 'OOMKilled' },
        expected: { event_type: 'execution_failed', error_type: 'resource_limit', exit_code: 137 },
        ran: true,
      },
      {
        name: 'DeadlineExceeded',
        simulate: { outcome: 'DeadlineExceeded', runFor: '200ms' },
        expected: { event_type: 'execution_timeout', timeout_seconds: 5 },
        ran: true,
      },
      {
        name: 'timed out by the runner',
        simulate: { outcome: 'Failed', exitCode: '137' },
        output: { stdout: 'partial', report: aReport({ exit_code: 137, timed_out: true, stdout_bytes: 7 }) },
        expected: { event_type: 'execution_timeout', stdout: 'partial' },
        ran: true,
      },
      {
        name: 'Evicted',
        simulate: { outcome: 'Evicted' },
        expected: {
          event_type: 'execution_failed',
          error_type: 'system_error',
          error_message: 'The pod was evicted: The node was low on resource: memory. (simulated by KWOK)',
        },
        ran: true,
      },
      {
        name: 'ImagePullBackOff (after the start grace)',
        simulate: { waitingReason: 'ImagePullBackOff', waitingMessage: 'manifest unknown' },
        expected: {
          event_type: 'execution_failed',
          error_type: 'system_error',
          error_message: 'The runtime image could not be pulled (ImagePullBackOff: manifest unknown)',
        },
        ran: false,
      },
      {
        name: 'InvalidImageName',
        simulate: { waitingReason: 'InvalidImageName', waitingMessage: 'bad reference' },
        expected: { event_type: 'execution_failed', error_type: 'system_error' },
        ran: false,
      },
    ];
    const runs = await Promise.all(
      cases.map(async (c) => {
        const executionId = newExecutionId();
        const pod = await fixture.createPod({
          executionId,
          simulate: c.simulate,
          output: c.output,
          configMap: true,
        });
        return { ...c, executionId, podName: pod.metadata!.name! };
      }),
    );
    for (const run of runs) {
      const terminal = await fixture.terminal(run.executionId);
      expect(terminal, run.name).toMatchObject(run.expected);
    }
    await fixture.settle();
    for (const run of runs) {
      expect(await fixture.counts(run.executionId), run.name).toEqual({
        ...(run.ran ? { execution_started: 1 } : {}),
        pod_terminated: 1,
        [run.expected.event_type]: 1,
      });
    }
    const started = await fixture.events(runs[0]!.executionId, ['execution_started']);
    expect(started[0]).toMatchObject({ pod_name: runs[0]!.podName, node_name: 'kwok-node-0' });
    expect((started[0] as { container_id?: string }).container_id).toMatch(/^kwok:\/\/.+\/script$/);
    // Each finished pod is deleted; its ConfigMap goes with it (ownerReference garbage collection).
    await waitFor(async () => (await fixture.objectsLeft('pods')).length === 0, { what: 'the pods to go' });
    await waitFor(async () => (await fixture.objectsLeft('configmaps')).length === 0, {
      what: 'the ConfigMaps to go',
    });
  });

  it('a watch restarted mid-way, and two watches at once, still give each pod one ending', async () => {
    const first = fixture.startMonitor();
    const running = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const executionId = newExecutionId();
        await fixture.createPod({
          executionId,
          simulate: { outcome: i === 2 ? 'Failed' : 'Succeeded', exitCode: '1', runFor: '3s' },
          output: { stdout: `run ${i}\n` },
        });
        return executionId;
      }),
    );
    for (const id of running) {
      await waitFor(async () => (await fixture.counts(id)).execution_started === 1, {
        what: `${id} to start`,
      });
    }
    await first.kube.stop();
    // A pod that ends while nothing watches: the next list finds it ended.
    const whileAway = newExecutionId();
    const away = await fixture.createPod({ executionId: whileAway, simulate: { outcome: 'Succeeded' } });
    await waitFor(async () => (await fixture.podPhase(away.metadata!.name!)) === 'Succeeded', {
      what: 'the pod to end unwatched',
    });
    expect(await fixture.counts(whileAway)).toEqual({});
    // Two processes, neither knowing what the first published: a restarted monitor and a second replica.
    fixture.startMonitor();
    fixture.startMonitor();
    for (const id of [...running, whileAway]) await fixture.terminal(id);
    await fixture.settle();
    for (const [i, id] of running.entries()) {
      const ending = i === 2 ? 'execution_failed' : 'execution_completed';
      expect(await fixture.counts(id)).toEqual({ execution_started: 1, pod_terminated: 1, [ending]: 1 });
    }
    expect(await fixture.counts(whileAway)).toEqual({
      execution_started: 1,
      pod_terminated: 1,
      execution_completed: 1,
    });
  });

  it('a pod deleted by hand ends as a system error; one deleted for a cancel ends with the cancel alone', async () => {
    fixture.startMonitor();
    const byHand = newExecutionId();
    const forCancel = newExecutionId();
    const handPod = await fixture.createPod({ executionId: byHand, configMap: true });
    const cancelPod = await fixture.createPod({ executionId: forCancel });
    for (const id of [byHand, forCancel]) {
      await waitFor(async () => (await fixture.counts(id)).execution_started === 1, {
        what: `${id} to start`,
      });
    }
    // A cancel is stored before run-pod deletes the pod (run-pod acts on the stored event).
    const { platform } = fixture;
    await platform.events.publish(
      platform.events.create<EventOf<'execution_cancelled'>>({
        event_type: 'execution_cancelled',
        execution_id: forCancel,
        cancelled_by: 'user-1',
        reason: 'user asked',
        force_terminated: true,
      }),
    );
    const namespace = fixture.namespace;
    await fixture.core.deleteNamespacedPod({ name: cancelPod.metadata!.name!, namespace });
    await fixture.core.deleteNamespacedPod({ name: handPod.metadata!.name!, namespace });

    expect(await fixture.terminal(byHand)).toMatchObject({
      event_type: 'execution_failed',
      error_type: 'system_error',
      error_message: DELETED_MESSAGE,
    });
    await fixture.settle();
    expect(await fixture.counts(byHand)).toEqual({
      execution_started: 1,
      pod_terminated: 1,
      execution_failed: 1,
    });
    expect(await fixture.counts(forCancel)).toEqual({ execution_started: 1, execution_cancelled: 1 });
  });

  it('the sweeper removes an over-age pod (ending its execution) and a ConfigMap no pod owns', async () => {
    const { kube } = fixture.startMonitor();
    const overAge = newExecutionId();
    const young = newExecutionId();
    // Running in the store, but its pod vanished while nothing watched: the sweep ends it too.
    const stranded = newExecutionId();
    const { platform } = fixture;
    await platform.store.executions.create(
      newExecution({
        execution_id: stranded,
        user_id: 'user-1',
        script: 'print(1)',
        stdin: '',
        lang: 'python',
        lang_version: '3.12',
        priority: 'normal',
        created_at: new Date().toISOString(),
      }),
    );
    await platform.store.executions.transition(stranded, ['queued'], {
      status: 'running',
      updated_at: new Date().toISOString(),
    });
    const overAgePod = await fixture.createPod({ executionId: overAge, configMap: true, timeoutSeconds: 5 });
    const youngPod = await fixture.createPod({ executionId: young, configMap: true, timeoutSeconds: 7000 });
    const orphan = await fixture.core.createNamespacedConfigMap({
      namespace: fixture.namespace,
      body: {
        metadata: {
          name: 'exec-orphan',
          labels: overAgePod.metadata!.labels!,
          annotations: { 'integr8scode.io/timeout-seconds': '5' },
        },
        data: { 'main.py': '' },
      },
    });
    for (const id of [overAge, young]) {
      await waitFor(async () => (await fixture.counts(id)).execution_started === 1, {
        what: `${id} to start`,
      });
    }

    // An hour on: past 5 s + 30 s of activeDeadlineSeconds and the 60 s grace, within the young pod's 7030 s.
    fixture.clockOffsetMs = 3600_000;
    const swept = await kube.sweeper!.sweep();
    fixture.clockOffsetMs = 0;
    expect(swept).toEqual({
      pods: [overAgePod.metadata!.name],
      configMaps: [orphan.metadata!.name],
      remaining: [young],
      stranded: [stranded],
    });
    expect(await fixture.terminal(stranded)).toMatchObject({
      error_type: 'system_error',
      error_message: STRANDED_MESSAGE,
    });
    expect(await fixture.terminal(overAge)).toMatchObject({
      event_type: 'execution_failed',
      error_type: 'system_error',
      error_message: expect.stringMatching(/s after its 35 s deadline and was removed$/),
    });
    await waitFor(
      async () => {
        const left = [...(await fixture.objectsLeft('pods')), ...(await fixture.objectsLeft('configmaps'))];
        return left.sort().join(',') === [youngPod.metadata!.name, youngPod.metadata!.name].join(',');
      },
      { what: 'only the young pod and its ConfigMap to be left' },
    );
    await fixture.settle();
    expect(await fixture.counts(overAge)).toEqual({
      execution_started: 1,
      pod_terminated: 1,
      execution_failed: 1,
    });
    expect(await fixture.counts(young)).toEqual({ execution_started: 1 });
    expect(await fixture.counts(stranded)).toEqual({ pod_terminated: 1, execution_failed: 1 });
    // A second sweep finds nothing more to do.
    fixture.clockOffsetMs = 3600_000;
    expect(await kube.sweeper!.sweep()).toMatchObject({ pods: [], configMaps: [], stranded: [] });
    fixture.clockOffsetMs = 0;
  });
});
