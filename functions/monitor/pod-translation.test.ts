import { describe, expect, it } from 'vitest';
import type { EventOf } from '../../shared/events/schemas';
import {
  ANNOTATIONS,
  EXECUTION_ID_LABEL,
  type RunnerReport,
  SCRIPT_CONTAINER,
} from '../../shared/sandbox/kubernetes/contract';
import { executorIdentity, parseExecutorPod } from '../../shared/sandbox/kubernetes/executor-pod';
import { formatRunnerLog, parseRunnerLog, type RunnerLog } from '../../shared/sandbox/kubernetes/runner-log';
import { classifyTermination } from './classify';
import {
  DELETED_MESSAGE,
  endingAfterRemoval,
  type PodFacts,
  podTerminatedFields,
  readPod,
} from './pod-translation';

const CREATED = '2026-01-01T00:00:00Z';
const STARTED = '2026-01-01T00:00:02Z';
const FINISHED = '2026-01-01T00:00:05Z';
const NOW = new Date('2026-01-01T00:00:10Z');

type Json = Record<string, unknown>;
const report = (overrides: Partial<RunnerReport> = {}): RunnerReport => ({
  v: 1,
  exit_code: 0,
  signal: null,
  timed_out: false,
  wall_ms: 1500,
  cpu_ms: 1200,
  peak_memory_bytes: 8 * 1024 * 1024,
  stdout_bytes: 6,
  stderr_bytes: 0,
  stdout_truncated: false,
  stderr_truncated: false,
  ...overrides,
});

/** A pod as an ApiServerSource or a watch delivers it (JSON); `status` replaces the running status. */
function pod(options: { status?: Json; metadata?: Json; timeout?: string } = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'exec-x1',
      namespace: 'integr8scode-executions',
      uid: 'uid-1',
      creationTimestamp: CREATED,
      labels: { [EXECUTION_ID_LABEL]: 'x1' },
      annotations: { [ANNOTATIONS.userId]: 'u1', [ANNOTATIONS.timeoutSeconds]: options.timeout ?? '5' },
      ...options.metadata,
    },
    spec: { nodeName: 'node-a', activeDeadlineSeconds: 35, containers: [{ name: SCRIPT_CONTAINER }] },
    status: options.status ?? running(),
  };
}
const container = (state: Json, extra: Json = {}) => ({
  name: SCRIPT_CONTAINER,
  containerID: 'containerd://abc',
  ...extra,
  state,
});
const running = (): Json => ({
  phase: 'Running',
  startTime: STARTED,
  containerStatuses: [container({ running: { startedAt: STARTED } })],
});
const ended = (phase: string, terminated: Json, extra: Json = {}): Json => ({
  phase,
  startTime: STARTED,
  containerStatuses: [container({ terminated: { startedAt: STARTED, finishedAt: FINISHED, ...terminated } })],
  ...extra,
});
const waiting = (reason: string, message = 'back-off pulling image'): Json => ({
  phase: 'Pending',
  startTime: STARTED,
  containerStatuses: [container({ waiting: { reason, message } }, { containerID: undefined })],
});

const facts = (overrides: Partial<PodFacts> = {}): PodFacts => ({
  now: NOW,
  deleted: false,
  startGraceMs: 60_000,
  ...overrides,
});
const read = (input: Json, overrides: Partial<PodFacts> = {}) => {
  const parsed = parseExecutorPod(input);
  if (!parsed.ok) throw new Error(parsed.error);
  return readPod(parsed.pod, facts(overrides));
};
const identityOf = (input: Json) => {
  const parsed = parseExecutorPod(input);
  if (!parsed.ok) throw new Error(parsed.error);
  return executorIdentity(parsed.pod)!;
};

/** What monitor publishes downstream for a pod: the outcome of its pod_terminated. */
function outcomeOf(input: Json, overrides: Partial<PodFacts> = {}, output: RunnerLog | null = null) {
  const ending = read(input, overrides).ending;
  if (!ending || ending.reason === 'removed') throw new Error(`no ending: ${JSON.stringify(ending)}`);
  const fields = podTerminatedFields(identityOf(input), { ...ending, reason: ending.reason }, output);
  return classifyTermination({
    ...fields,
    event_id: 'e',
    event_version: '1.0',
    timestamp: NOW.toISOString(),
    aggregate_id: 'x1',
    metadata: { service_name: 'monitor', service_version: '1' },
  } as EventOf<'pod_terminated'>);
}

describe('readPod', () => {
  it('a pod not yet running has nothing to report', () => {
    expect(read(pod({ status: { phase: 'Pending' } }))).toEqual({
      started: null,
      ending: null,
      recheckAt: null,
    });
  });

  it('a running script container is the start, with node and container', () => {
    expect(read(pod())).toEqual({
      started: { pod_name: 'exec-x1', node_name: 'node-a', container_id: 'containerd://abc' },
      ending: null,
      recheckAt: null,
    });
  });

  it('Succeeded is exit 0 with the runner report; the start is reported with it', () => {
    const message = JSON.stringify(report());
    const reading = read(pod({ status: ended('Succeeded', { exitCode: 0, reason: 'Completed', message }) }));
    expect(reading.started).not.toBeNull();
    expect(reading.ending).toMatchObject({
      reason: 'exited',
      exitCode: 0,
      startedAt: '2026-01-01T00:00:02.000Z',
      finishedAt: '2026-01-01T00:00:05.000Z',
      ran: true,
      report: report(),
    });
  });

  it('Failed with an exit code is that exit; the runner report names a signal', () => {
    expect(read(pod({ status: ended('Failed', { exitCode: 3, reason: 'Error' }) })).ending).toMatchObject({
      reason: 'exited',
      exitCode: 3,
      signal: null,
      report: null,
    });
    const message = JSON.stringify(report({ exit_code: 139, signal: 'SIGSEGV' }));
    expect(
      read(pod({ status: ended('Failed', { exitCode: 139, reason: 'Error', message }) })).ending,
    ).toMatchObject({ reason: 'exited', exitCode: 139, signal: 'SIGSEGV' });
  });

  it('without a report, a signal the runtime reports is named', () => {
    const status = ended('Failed', { exitCode: 137, reason: 'Error', signal: 9 });
    expect(read(pod({ status })).ending).toMatchObject({ signal: 'SIGKILL' });
  });

  it('OOMKilled, or an OOM kill the runner counted in a failed script, is the memory limit', () => {
    expect(
      read(pod({ status: ended('Failed', { exitCode: 137, reason: 'OOMKilled' }) })).ending,
    ).toMatchObject({
      reason: 'memory_limit',
      exitCode: 137,
    });
    const killed = JSON.stringify(report({ exit_code: 137, signal: 'SIGKILL', oom_kill_count: 1 }));
    expect(
      read(pod({ status: ended('Failed', { exitCode: 137, reason: 'Error', message: killed }) })).ending
        ?.reason,
    ).toBe('memory_limit');
    const survived = JSON.stringify(report({ exit_code: 0, oom_kill_count: 1 }));
    expect(
      read(pod({ status: ended('Succeeded', { exitCode: 0, reason: 'Completed', message: survived }) }))
        .ending?.reason,
    ).toBe('exited');
  });

  it('DeadlineExceeded, or the runner stopping the script at its limit, is the wall timeout', () => {
    const deadline = ended('Failed', { exitCode: 137, reason: 'Error' }, { reason: 'DeadlineExceeded' });
    expect(read(pod({ status: deadline })).ending?.reason).toBe('wall_timeout');
    const message = JSON.stringify(report({ exit_code: 137, timed_out: true }));
    expect(read(pod({ status: ended('Failed', { exitCode: 137, message }) })).ending?.reason).toBe(
      'wall_timeout',
    );
  });

  it('an evicted or disrupted pod is a system error that says so', () => {
    const evicted = ended(
      'Failed',
      { exitCode: 137, reason: 'Error' },
      { reason: 'Evicted', message: 'The node was low on resource: memory.' },
    );
    expect(read(pod({ status: evicted })).ending).toMatchObject({
      reason: 'sandbox_error',
      message: 'The pod was evicted: The node was low on resource: memory.',
    });
    const preempted = ended(
      'Failed',
      { exitCode: 143, reason: 'Error' },
      {
        conditions: [
          { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: 'preempted' },
        ],
      },
    );
    expect(read(pod({ status: preempted })).ending?.message).toBe(
      'The pod was stopped by the cluster (PreemptionByScheduler): preempted',
    );
  });

  it('an image that cannot be pulled waits out the grace, then is a system error', () => {
    const within = read(pod({ status: waiting('ImagePullBackOff') }), { startGraceMs: 60_000 });
    expect(within).toEqual({ started: null, ending: null, recheckAt: new Date('2026-01-01T00:01:00Z') });
    const after = read(pod({ status: waiting('ErrImagePull', 'not found') }), { startGraceMs: 5_000 });
    expect(after.ending).toMatchObject({
      reason: 'sandbox_error',
      exitCode: -1,
      ran: false,
      message: 'The runtime image could not be pulled (ErrImagePull: not found)',
    });
    expect(after.started).toBeNull();
  });

  it('an image name that can never work ends at once', () => {
    const reading = read(pod({ status: waiting('InvalidImageName', 'bad ref') }));
    expect(reading.ending?.message).toBe('The runtime image could not be pulled (InvalidImageName: bad ref)');
  });

  it('a pod that failed before its script started is a system error, not a timeout', () => {
    const status = { ...waiting('ImagePullBackOff'), phase: 'Failed', reason: 'DeadlineExceeded' };
    expect(read(pod({ status })).ending).toMatchObject({
      reason: 'sandbox_error',
      message: 'The script never started within its time limit (ImagePullBackOff: back-off pulling image)',
    });
  });

  it('the runner failing to run the script is a system error, from the report or the log', () => {
    const message = JSON.stringify(report({ exit_code: -1, runner_error: 'no such interpreter' }));
    expect(read(pod({ status: ended('Failed', { exitCode: 1, message }) })).ending).toMatchObject({
      reason: 'sandbox_error',
      message: 'The runner could not run the script: no such interpreter',
    });
    const log = parseRunnerLog(
      '@@integr8scode-runner v1 error cannot write /tmp\n@@integr8scode-runner v1 end\n',
    );
    if (!log.ok) throw new Error(log.problem);
    expect(
      read(pod({ status: ended('Failed', { exitCode: 1 }) }), { runnerLog: log.log }).ending?.message,
    ).toBe('The runner could not run the script: cannot write /tmp');
  });

  it("the log's report stands in for a missing termination message", () => {
    const log = parseRunnerLog(
      formatRunnerLog({
        stdout: 'x',
        stderr: '',
        capBytes: 100,
        report: report({ exit_code: 4, timed_out: true }),
      }),
    );
    if (!log.ok) throw new Error(log.problem);
    const reading = read(pod({ status: ended('Failed', { exitCode: 4 }) }), { runnerLog: log.log });
    expect(reading.ending).toMatchObject({ reason: 'wall_timeout', report: { exit_code: 4 } });
  });

  it('a pod deleted while its script runs is a removal; ended before the deletion, it is its own end', () => {
    const deleting = pod({
      metadata: { deletionTimestamp: '2026-01-01T00:00:38Z', deletionGracePeriodSeconds: 30 },
    });
    expect(read(deleting).ending).toMatchObject({
      reason: 'removed',
      message: DELETED_MESSAGE,
      finishedAt: '2026-01-01T00:00:08.000Z',
      ran: true,
    });
    // A kubelet stops the containers of a deleted pod: that end is the deletion's, not the script's.
    const killed = pod({
      status: ended('Failed', { exitCode: 143, finishedAt: '2026-01-01T00:00:09Z' }),
      metadata: { deletionTimestamp: '2026-01-01T00:00:08Z', deletionGracePeriodSeconds: 0 },
    });
    expect(read(killed, { deleted: true }).ending?.reason).toBe('removed');
    const finishedFirst = pod({
      status: ended('Succeeded', { exitCode: 0 }),
      metadata: { deletionTimestamp: '2026-01-01T00:00:08Z', deletionGracePeriodSeconds: 0 },
    });
    expect(read(finishedFirst, { deleted: true }).ending?.reason).toBe('exited');
  });

  it('a pod removed after its deadline is said to be overdue, not deleted by someone else', () => {
    const late = pod({ status: { ...running(), startTime: '2025-12-31T23:59:00Z' } });
    expect(read(late, { deleted: true }).ending?.message).toBe(
      'The pod was still there after its 35 s deadline and was removed',
    );
  });

  it('a pod missing from a re-list (no deletion time) is a removal at the time it was missed', () => {
    expect(read(pod(), { deleted: true }).ending).toMatchObject({
      reason: 'removed',
      finishedAt: NOW.toISOString(),
    });
  });

  it('the sweeper removes a pod with its own reason; one that ended meanwhile keeps its own end', () => {
    const why = 'outlived its deadline';
    expect(read(pod(), { removedBecause: why }).ending).toMatchObject({ reason: 'removed', message: why });
    expect(
      read(pod({ status: ended('Failed', { exitCode: 2 }) }), { removedBecause: why }).ending?.reason,
    ).toBe('exited');
  });

  it('a typed client object (Dates) reads the same as JSON', () => {
    const json = pod({ status: ended('Failed', { exitCode: 3 }) });
    const typed = structuredClone(json) as {
      metadata: Json;
      status: { startTime: unknown; containerStatuses: { state: { terminated: Json } }[] };
    };
    typed.metadata.creationTimestamp = new Date(CREATED);
    typed.status.startTime = new Date(STARTED);
    typed.status.containerStatuses[0]!.state.terminated.startedAt = new Date(STARTED);
    typed.status.containerStatuses[0]!.state.terminated.finishedAt = new Date(FINISHED);
    expect(read(typed as Json)).toEqual(read(json));
  });
});

describe('endingAfterRemoval', () => {
  const removal = () => read(pod(), { deleted: true }).ending!;

  it('is nothing when the execution had ended (a cancel deletes the pod), else a system error', () => {
    expect(endingAfterRemoval(removal(), true)).toBeNull();
    expect(endingAfterRemoval(removal(), false)).toMatchObject({
      reason: 'sandbox_error',
      message: DELETED_MESSAGE,
    });
  });
});

describe('podTerminatedFields', () => {
  const succeeded = (message = JSON.stringify(report())) =>
    pod({ status: ended('Succeeded', { exitCode: 0, reason: 'Completed', message }) });
  const fieldsOf = (input: Json, output: RunnerLog | null) => {
    const ending = read(input).ending!;
    if (ending.reason === 'removed') throw new Error('removed');
    return podTerminatedFields(identityOf(input), { ...ending, reason: ending.reason }, output);
  };

  it('carries the output from the log and the usage from the report', () => {
    const log = parseRunnerLog(
      formatRunnerLog({ stdout: 'hello\n', stderr: 'x'.repeat(300), capBytes: 100 }),
    );
    if (!log.ok) throw new Error(log.problem);
    expect(fieldsOf(succeeded(), log.log)).toMatchObject({
      event_type: 'pod_terminated',
      execution_id: 'x1',
      pod_name: 'exec-x1',
      exit_code: 0,
      reason: 'exited',
      timeout_seconds: 5,
      stdout: 'hello\n',
      stdout_truncated: false,
      stdout_bytes: 6,
      stderr_truncated: true,
      stderr_bytes: 300,
      resource_usage: {
        execution_time_wall_seconds: 1.5,
        cpu_time_seconds: 1.2,
        cpu_time_jiffies: 120,
        clk_tck_hertz: 100,
        peak_memory_kb: 8192,
      },
    });
  });

  it('output the log no longer holds is reported as cut, with the byte counts of the report', () => {
    expect(fieldsOf(succeeded(JSON.stringify(report({ stdout_bytes: 42 }))), null)).toMatchObject({
      stdout: '',
      stdout_bytes: 42,
      stdout_truncated: true,
      stderr_bytes: 0,
      stderr_truncated: false,
    });
  });

  it('no usage without CPU and memory figures; the pod deadline stands in for a missing timeout', () => {
    const input = pod({
      status: ended('Failed', { exitCode: 1, message: JSON.stringify(report({ cpu_ms: null })) }),
      timeout: '',
    });
    expect(fieldsOf(input, null)).toMatchObject({ resource_usage: null, timeout_seconds: 35 });
  });
});

describe('each simulated outcome, as monitor classifies it', () => {
  it.each([
    ['Succeeded', ended('Succeeded', { exitCode: 0 }), { event_type: 'execution_completed', exit_code: 0 }],
    [
      'Failed',
      ended('Failed', { exitCode: 3 }),
      { event_type: 'execution_failed', error_type: 'script_error' },
    ],
    ['OOMKilled', ended('Failed', { exitCode: 137, reason: 'OOMKilled' }), { error_type: 'resource_limit' }],
    [
      'DeadlineExceeded',
      ended('Failed', { exitCode: 137 }, { reason: 'DeadlineExceeded' }),
      { event_type: 'execution_timeout', timeout_seconds: 5 },
    ],
    ['Evicted', ended('Failed', { exitCode: 137 }, { reason: 'Evicted' }), { error_type: 'system_error' }],
    ['InvalidImageName', waiting('InvalidImageName'), { error_type: 'system_error' }],
  ])('%s', (_name, status, expected) => {
    expect(outcomeOf(pod({ status }))).toMatchObject(expected);
  });
});

describe('executorIdentity', () => {
  it('reads the contract labels and annotations; a pod without the execution label is not ours', () => {
    expect(identityOf(pod())).toEqual({
      executionId: 'x1',
      podName: 'exec-x1',
      podUid: 'uid-1',
      userId: 'u1',
      traceparent: undefined,
      timeoutSeconds: 5,
    });
    const parsed = parseExecutorPod(pod({ metadata: { labels: {} } }));
    expect(parsed.ok && executorIdentity(parsed.pod)).toBeNull();
    expect(parseExecutorPod({ metadata: { name: 'x' } })).toMatchObject({ ok: false });
  });
});
