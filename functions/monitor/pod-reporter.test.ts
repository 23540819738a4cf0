import { ApiException } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventOf, EventType } from '../../shared/events/schemas';
import { PermanentEventError } from '../../shared/http/cloudevent-sink';
import { createLogger } from '../../shared/log';
import {
  ANNOTATIONS,
  EXECUTION_ID_LABEL,
  executorPodCause,
  type RunnerReport,
  SCRIPT_CONTAINER,
} from '../../shared/sandbox/kubernetes/contract';
import { formatRunnerLog, parseRunnerLog } from '../../shared/sandbox/kubernetes/runner-log';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { createPodReporter } from './pod-reporter';

const report: RunnerReport = {
  v: 1,
  exit_code: 0,
  signal: null,
  timed_out: false,
  wall_ms: 100,
  cpu_ms: 50,
  peak_memory_bytes: 1024 * 1024,
  stdout_bytes: 3,
  stderr_bytes: 0,
  stdout_truncated: false,
  stderr_truncated: false,
};

type Json = Record<string, unknown>;
const pod = (executionId: string, status: Json, metadata: Json = {}): Json => ({
  metadata: {
    name: `exec-${executionId}`,
    namespace: 'ns',
    uid: `uid-${executionId}`,
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { [EXECUTION_ID_LABEL]: executionId },
    annotations: { [ANNOTATIONS.userId]: 'u1', [ANNOTATIONS.timeoutSeconds]: '5' },
    ...metadata,
  },
  spec: { nodeName: 'n1' },
  status,
});
const succeeded = (message = JSON.stringify(report)): Json => ({
  phase: 'Succeeded',
  containerStatuses: [
    {
      name: SCRIPT_CONTAINER,
      state: {
        terminated: {
          exitCode: 0,
          reason: 'Completed',
          message,
          startedAt: '2026-01-01T00:00:01Z',
          finishedAt: '2026-01-01T00:00:02Z',
        },
      },
    },
  ],
});
const running = (): Json => ({
  phase: 'Running',
  containerStatuses: [{ name: SCRIPT_CONTAINER, state: { running: { startedAt: '2026-01-01T00:00:01Z' } } }],
});

/** The cluster calls the reporter makes, recorded; the log is the runner's frames unless told otherwise. */
class FakeCluster {
  logReads = 0;
  deleted: string[] = [];
  logFailure: Error | null = null;
  async readLog(_name: string): Promise<string> {
    this.logReads++;
    if (this.logFailure) throw this.logFailure;
    return formatRunnerLog({ stdout: 'hi\n', stderr: '', capBytes: 1024, report });
  }
  async deletePod(name: string, uid: string): Promise<void> {
    this.deleted.push(`${name}/${uid}`);
  }
}

let platform: TestPlatform;
let cluster: FakeCluster;
const reporter = () =>
  createPodReporter({
    platform,
    cluster,
    parseLog: parseRunnerLog,
    startGraceMs: 60_000,
    log: createLogger('silent'),
  });
const counts = async (executionId: string) => {
  const result: Partial<Record<EventType, number>> = {};
  for (const { event } of await platform.store.events.listByAggregate(executionId))
    result[event.event_type] = (result[event.event_type] ?? 0) + 1;
  return result;
};
const ofType = async <T extends EventType>(executionId: string, type: T) =>
  (await platform.store.events.listByAggregate(executionId, { eventTypes: [type] })).map(
    (s) => s.event as EventOf<T>,
  );

beforeEach(async () => {
  platform = await createTestPlatform();
  cluster = new FakeCluster();
});
afterEach(async () => {
  await platform.close();
});

describe('the pod reporter', () => {
  it('reports an ended pod once: start, raw end with the log, outcome; then deletes exactly that pod', async () => {
    const id = crypto.randomUUID();
    expect(await reporter().report(pod(id, succeeded()))).toEqual({ ended: true, recheckAt: null });
    expect(await counts(id)).toEqual({ execution_started: 1, pod_terminated: 1, execution_completed: 1 });
    expect((await ofType(id, 'execution_completed'))[0]).toMatchObject({ stdout: 'hi\n', exit_code: 0 });
    expect((await ofType(id, 'execution_completed'))[0]!.metadata.user_id).toBe('u1');
    expect(cluster.logReads).toBe(1);
    expect(cluster.deleted).toEqual([`exec-${id}/uid-${id}`]);
  });

  it('a repeated change, or another process with no memory of it, publishes nothing again', async () => {
    const id = crypto.randomUUID();
    const first = reporter();
    await first.report(pod(id, running()));
    await first.report(pod(id, succeeded()));
    await first.report(pod(id, succeeded()));
    await reporter().report(pod(id, succeeded()), { deleted: true });
    expect(await counts(id)).toEqual({ execution_started: 1, pod_terminated: 1, execution_completed: 1 });
    // Only the first report read the log: the others found the ending reported.
    expect(cluster.logReads).toBe(1);
  });

  it('a stored end whose outcome is missing (a crash between the two) gets its outcome', async () => {
    const id = crypto.randomUUID();
    const context = { causedBy: executorPodCause(`uid-${id}`) };
    const terminated = platform.events.create<EventOf<'pod_terminated'>>(
      {
        event_type: 'pod_terminated',
        execution_id: id,
        pod_name: `exec-${id}`,
        exit_code: 4,
        signal: null,
        reason: 'exited',
        message: null,
        timeout_seconds: 5,
        started_at: null,
        finished_at: '2026-01-01T00:00:02.000Z',
        stdout: '',
        stderr: 'from the first report',
        stdout_truncated: false,
        stderr_truncated: false,
        stdout_bytes: 0,
        stderr_bytes: 21,
        resource_usage: null,
      },
      context,
    );
    await platform.store.events.append(terminated);
    await reporter().report(pod(id, succeeded()));
    // The stored facts decide: exit 4, not this pod status's exit 0.
    expect(await counts(id)).toEqual({ pod_terminated: 1, execution_failed: 1 });
    expect((await ofType(id, 'execution_failed'))[0]).toMatchObject({
      exit_code: 4,
      stderr: 'from the first report',
    });
    expect(cluster.logReads).toBe(0);
  });

  it('an unreadable log still ends the run: the output is reported cut, with its byte counts', async () => {
    const id = crypto.randomUUID();
    cluster.logFailure = new ApiException(500, 'kubelet unreachable', '{}', {});
    await reporter().report(pod(id, succeeded()));
    expect((await ofType(id, 'execution_completed'))[0]).toMatchObject({
      stdout: '',
      stdout_bytes: 3,
      stdout_truncated: true,
    });
    expect(cluster.logReads).toBe(3);
    // A 4xx will not change by asking again.
    const other = crypto.randomUUID();
    cluster.logReads = 0;
    cluster.logFailure = new ApiException(400, 'no logs found', '{}', {});
    await reporter().report(pod(other, succeeded()));
    expect(cluster.logReads).toBe(1);
  });

  it('a pod removed after a cancel reports nothing; one removed otherwise ends as a system error', async () => {
    const cancelled = crypto.randomUUID();
    await platform.events.publish(
      platform.events.create<EventOf<'execution_cancelled'>>({
        event_type: 'execution_cancelled',
        execution_id: cancelled,
        cancelled_by: 'u1',
        reason: '',
        force_terminated: true,
      }),
    );
    expect(await reporter().report(pod(cancelled, running()), { deleted: true })).toMatchObject({
      ended: true,
    });
    expect(await counts(cancelled)).toEqual({ execution_cancelled: 1 });

    const removed = crypto.randomUUID();
    await reporter().report(pod(removed, running()), { deleted: true });
    expect((await ofType(removed, 'execution_failed'))[0]).toMatchObject({ error_type: 'system_error' });
    expect(cluster.deleted).toEqual([]);
    expect(cluster.logReads).toBe(0);
  });

  it('data that is not a Pod is refused for good; a pod without the execution label is ignored', async () => {
    await expect(reporter().report({ kind: 'Pod' })).rejects.toBeInstanceOf(PermanentEventError);
    const stranger = pod('x', succeeded(), { labels: {} });
    expect(await reporter().report(stranger)).toEqual({ ended: false, recheckAt: null });
    expect(cluster.deleted).toEqual([]);
  });
});
