/**
 * run-pod: admits requested executions by priority and capacity and starts each in the sandbox.
 *
 * Local sandbox: reports the run's life as events: `pod_created` (scheduled), `execution_started`
 * (running), live `execution_output`, and `pod_terminated` with the raw outcome for monitor to classify.
 *
 * Kubernetes: creates the execution's Pod and ConfigMap and publishes `pod_created` with the real pod
 * name and namespace; monitor reports everything the pod does after that. run-pod publishes
 * `pod_terminated` (reason `sandbox_error`) only for a run that got no usable pod: none could be made, or
 * its ConfigMap could not (then before the pod is deleted again). Either way a run holds its
 * concurrency slot until its sandbox run's `outcome` resolves: in Kubernetes, when its pod has ended or
 * is gone (the backend watches the pods), or at once when no pod could be made; a cancel deletes the
 * pod, which resolves it too.
 */

import * as v from 'valibot';
import { bytes, millicores } from '../../shared/config/config';
import { effectiveSettings } from '../../shared/config/effective-settings';
import type { ExecutionStatus } from '../../shared/domain/execution';
import type { EventContext } from '../../shared/events/publisher';
import {
  type DomainEvent,
  type EventOf,
  type EventType,
  TERMINAL_EXECUTION_EVENTS,
} from '../../shared/events/schemas';
import { cloudEventSink, PermanentEventError } from '../../shared/http/cloudevent-sink';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { executorPodCause } from '../../shared/sandbox/kubernetes/contract';
import {
  isPodSandbox,
  type PodRun,
  type PodSandbox,
  type PodSandboxSpec,
} from '../../shared/sandbox/kubernetes/pod-run';
import type { SandboxLimits, SandboxOutcome, SandboxRun } from '../../shared/sandbox/port';
import { ExecutionScheduler, type Job } from './scheduler';

type Requested = EventOf<'execution_requested'>;
interface RunJob extends Job {
  request: Requested;
  /** Kubernetes, after a restart: the execution's pod was made before; its slot is held until it ends. */
  resume?: boolean;
}

/** Live output only feeds open streams (the result carries all of it): a chunk is given up after this. */
const OUTPUT_PUBLISH_ATTEMPTS = 3;
const MAX_PUBLISH_BACKOFF_MS = 5_000;

export function createRunPodApp(platform: Platform) {
  const app = createFunctionApp(platform, 'run-pod');
  const log = platform.log.child({ function: 'run-pod' });
  const runs = new Map<string, SandboxRun>();
  /** Cancels that arrived after admission but before the sandbox existed. */
  const cancelledEarly = new Set<string>();

  /**
   * Publishes a lifecycle event, retrying until the store, the fan-out and the bus have all taken it:
   * nothing else would ever report how this run ended. Live output is given up after a few attempts.
   */
  async function publish(event: DomainEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await platform.events.publish(event);
        return;
      } catch (error) {
        if (event.event_type === 'execution_output' && attempt >= OUTPUT_PUBLISH_ATTEMPTS) throw error;
        log.warn('publish failed, retrying', { event_type: event.event_type, attempt, error });
        await new Promise((r) => setTimeout(r, Math.min(MAX_PUBLISH_BACKOFF_MS, 100 * 2 ** attempt)));
      }
    }
  }

  async function runExecution({ request, resume }: RunJob): Promise<void> {
    const sandbox = platform.sandbox;
    if (resume && isPodSandbox(sandbox)) {
      await holdSlot(sandbox.follow(request.execution_id), request.execution_id);
      return;
    }
    const current = await platform.store.executions.get(request.execution_id);
    if (current?.status !== 'queued') {
      cancelledEarly.delete(request.execution_id);
      return; // cancelled or deleted while waiting
    }
    const context: EventContext = {
      userId: request.metadata.user_id,
      traceparent: request.metadata.traceparent,
    };
    const spec: PodSandboxSpec = {
      executionId: request.execution_id,
      language: request.language,
      version: request.language_version,
      script: request.script,
      stdin: request.stdin,
      limits: limitsFor(platform, request),
      pod: {
        resources: {
          cpuRequest: request.cpu_request,
          cpuLimit: request.cpu_limit,
          memoryRequest: request.memory_request,
          memoryLimit: request.memory_limit,
        },
        owner: {
          userId: request.metadata.user_id,
          requestedEventId: request.event_id,
          traceparent: request.metadata.traceparent,
        },
      },
    };
    if (isPodSandbox(sandbox)) await runInPod(sandbox, spec, request, context);
    else await runHere(spec, request, context);
  }

  /** Until the run's pod has ended or is gone (cancel included). */
  async function holdSlot(run: PodRun, executionId: string): Promise<SandboxOutcome> {
    runs.set(executionId, run);
    if (cancelledEarly.delete(executionId)) {
      run.cancel().catch((error) => log.error('cancel failed', { execution_id: executionId, error }));
    }
    try {
      return await run.outcome;
    } finally {
      runs.delete(executionId);
    }
  }

  /** Kubernetes: the pod is made here; monitor reports what it does. */
  async function runInPod(
    sandbox: PodSandbox,
    spec: PodSandboxSpec,
    request: Requested,
    context: EventContext,
  ): Promise<void> {
    const executionId = request.execution_id;
    let reported = false;
    const run = sandbox.start(spec, {
      // Its pod is deleted next: the ending goes first, with the pod's cause (contract.ts), so that
      // monitor's report of the deleted pod, if any, is this same event.
      beforeCompensation: async (pod, outcome) => {
        reported = true;
        await publish(
          podTerminated(platform, request, pod.podName, outcome, {
            ...context,
            causedBy: executorPodCause(pod.uid),
          }),
        );
      },
    });
    const publishCreated = run.created.then(async (pod) => {
      if (!pod) return;
      await publish(
        platform.events.create<EventOf<'pod_created'>>(
          {
            event_type: 'pod_created',
            execution_id: executionId,
            pod_name: pod.podName,
            namespace: pod.namespace,
          },
          context,
        ),
      );
    });
    const outcome = await holdSlot(run, executionId);
    await publishCreated;
    if (!(await run.created) && outcome.reason !== 'cancelled' && !reported) {
      await publish(podTerminated(platform, request, run.podName, outcome, context));
    }
  }

  /** Local sandbox: this process runs the script and reports its whole life. */
  async function runHere(spec: PodSandboxSpec, request: Requested, context: EventContext): Promise<void> {
    // Events of one run leave in the order they happened.
    let chain = Promise.resolve();
    const emit = (event: DomainEvent) => {
      chain = chain
        .then(() => publish(event))
        .catch((error) => log.warn('live output dropped; the result keeps it', { error }));
    };
    const executionId = request.execution_id;
    const run = platform.sandbox.start(spec, {
      onStarted: ({ podName }) =>
        emit(
          platform.events.create<EventOf<'execution_started'>>(
            { event_type: 'execution_started', execution_id: executionId, pod_name: podName },
            context,
          ),
        ),
      onOutput: (stream, data) =>
        emit(
          platform.events.create<EventOf<'execution_output'>>(
            { event_type: 'execution_output', execution_id: executionId, stream, data },
            context,
          ),
        ),
    });
    runs.set(executionId, run);
    if (cancelledEarly.delete(executionId)) void run.cancel();
    emit(
      platform.events.create<EventOf<'pod_created'>>(
        { event_type: 'pod_created', execution_id: executionId, pod_name: run.podName, namespace: 'local' },
        context,
      ),
    );
    try {
      const outcome = await run.outcome;
      emit(podTerminated(platform, request, run.podName, outcome, context));
      await chain;
    } finally {
      runs.delete(executionId);
    }
  }

  const scheduler = new ExecutionScheduler<RunJob>(
    platform.config.MAX_CONCURRENT_EXECUTIONS,
    runExecution,
    (job, error) => log.error('run failed', { execution_id: job.executionId, error }),
  );

  app.post(
    '/',
    cloudEventSink({
      name: 'run-pod',
      kv: platform.kv,
      log,
      handlers: {
        execution_requested: async (event) => {
          const execution = await platform.store.executions.get(event.execution_id);
          if (!execution) throw new PermanentEventError(`Execution ${event.execution_id} does not exist`);
          if (execution.status !== 'queued') return;
          // Both may have changed since the request: an admin's priority and the system settings' limit.
          scheduler.setCapacity((await effectiveSettings(platform)).max_concurrent_executions);
          scheduler.enqueue({
            executionId: event.execution_id,
            priority: execution.priority,
            request: event,
          });
        },
        execution_cancelled: async (event) => {
          const admission = scheduler.cancel(event.execution_id);
          if (admission === 'dequeued') return;
          const run = runs.get(event.execution_id);
          if (run) await run.cancel();
          else if (admission === 'running') cancelledEarly.add(event.execution_id);
          // Admitted elsewhere (another replica, or this one before a restart): its pod goes all the same.
          else if (isPodSandbox(platform.sandbox)) await platform.sandbox.deletePod(event.execution_id);
        },
      },
    }),
  );

  void recoverInterrupted(platform, (request, resume) =>
    scheduler.enqueue({
      executionId: request.execution_id,
      priority: resume ? 'critical' : request.priority,
      request,
      resume,
    }),
  ).catch((error) => log.error('recovery failed', { error }));
  return app;
}

async function executionIds(platform: Platform, status: ExecutionStatus): Promise<string[]> {
  const ids: string[] = [];
  const page = 500;
  for (let skip = 0; ; skip += page) {
    const { items } = await platform.store.executions.list({ status }, { limit: page, skip });
    ids.push(...items.map((execution) => execution.execution_id));
    if (items.length < page) return ids;
  }
}

const latest = async (platform: Platform, executionId: string, eventTypes: EventType[]) =>
  (await platform.store.events.listByAggregate(executionId, { eventTypes })).at(-1)?.event;

/**
 * After a restart, nothing this process started is still running: local sandboxes die with it. Each
 * execution left mid-flight is driven on from what the store holds — `queued` ones are admitted again,
 * ended ones have their last lifecycle event delivered again (every consumer is idempotent), and runs
 * that were cut off end as a system error.
 */
async function recoverInterrupted(
  platform: Platform,
  enqueue: (request: Requested, resume?: boolean) => void,
): Promise<void> {
  if (isPodSandbox(platform.sandbox)) {
    // Pods outlive run-pod: executions that have one take their slots back before anything is admitted.
    for (const id of [
      ...(await executionIds(platform, 'scheduled')),
      ...(await executionIds(platform, 'running')),
    ]) {
      const request = await latest(platform, id, ['execution_requested']);
      if (request?.event_type === 'execution_requested') enqueue(request, true);
    }
  }
  for (const id of await executionIds(platform, 'queued')) {
    const request = await latest(platform, id, ['execution_requested']);
    if (request?.event_type === 'execution_requested') enqueue(request);
  }
  if (platform.sandbox.backend !== 'local') return;
  const interrupted = [
    ...(await executionIds(platform, 'scheduled')),
    ...(await executionIds(platform, 'running')),
  ];
  for (const id of interrupted) {
    const ended = await latest(platform, id, [...TERMINAL_EXECUTION_EVENTS, 'pod_terminated']);
    if (ended) {
      await platform.bus.publish(ended);
      continue;
    }
    const request = await latest(platform, id, ['execution_requested']);
    if (request?.event_type !== 'execution_requested') continue;
    const now = platform.now();
    const cutOff: SandboxOutcome = {
      reason: 'sandbox_error',
      exitCode: -1,
      signal: null,
      message: 'The server restarted while the script was running',
      stdout: { text: '', truncated: false, totalBytes: 0 },
      stderr: { text: '', truncated: false, totalBytes: 0 },
      usage: null,
      startedAt: null,
      finishedAt: now,
    };
    await platform.events.publish(
      podTerminated(platform, request, `local-${id}`, cutOff, { userId: request.metadata.user_id }),
    );
  }
}

export function limitsFor(platform: Platform, request: Requested): SandboxLimits {
  const { config } = platform;
  const wallTimeoutMs = request.timeout_seconds * 1000;
  const cores = Math.max(1, millicores(request.cpu_limit) / 1000);
  return {
    wallTimeoutMs,
    cpuTimeMs: Math.ceil(wallTimeoutMs * cores),
    memoryBytes: v.parse(bytes, request.memory_limit),
    maxProcesses: config.MAX_PROCESSES,
    tmpBytes: config.TMP_SIZE,
    outputBytesPerStream: config.OUTPUT_LIMIT,
  };
}

function podTerminated(
  platform: Platform,
  request: Requested,
  podName: string,
  outcome: SandboxOutcome,
  context: EventContext,
): EventOf<'pod_terminated'> {
  const usage = outcome.usage;
  return platform.events.create<EventOf<'pod_terminated'>>(
    {
      event_type: 'pod_terminated',
      execution_id: request.execution_id,
      pod_name: podName,
      exit_code: outcome.exitCode,
      signal: outcome.signal,
      reason: outcome.reason,
      message: outcome.message,
      timeout_seconds: request.timeout_seconds,
      started_at: outcome.startedAt?.toISOString() ?? null,
      finished_at: outcome.finishedAt.toISOString(),
      stdout: outcome.stdout.text,
      stderr: outcome.stderr.text,
      stdout_truncated: outcome.stdout.truncated,
      stderr_truncated: outcome.stderr.truncated,
      stdout_bytes: outcome.stdout.totalBytes,
      stderr_bytes: outcome.stderr.totalBytes,
      resource_usage: usage
        ? {
            execution_time_wall_seconds: usage.wallMs / 1000,
            cpu_time_seconds: usage.cpuMs / 1000,
            cpu_time_jiffies: Math.round(usage.cpuMs / 10),
            clk_tck_hertz: 100,
            peak_memory_kb: Math.round(usage.peakMemoryBytes / 1024),
          }
        : null,
    },
    context,
  );
}
