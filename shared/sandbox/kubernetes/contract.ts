/**
 * What run-pod (which creates executor pods) and monitor (which watches them end) agree on: the names,
 * labels and annotations of an executor pod and its ConfigMap, and the report the in-pod runner leaves
 * in the container's termination message. Changing any of it changes both sides at once.
 */
import * as v from 'valibot';

/** Every object the backend creates carries these labels; the watch and the sweeper select on them. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'integr8scode';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const EXECUTOR_COMPONENT = 'executor';
export const EXECUTION_ID_LABEL = 'integr8scode.io/execution-id';

/** Label selector for every executor pod and ConfigMap this product made. */
export const EXECUTOR_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY},${COMPONENT_LABEL}=${EXECUTOR_COMPONENT}`;

/** Also on every executor pod and ConfigMap: the Knative ApiServerSource selects part-of + component. */
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const PART_OF = 'integr8scode';

/** Every label an executor pod and its ConfigMap carry. */
export const executorLabels = (executionId: string): Record<string, string> => ({
  [MANAGED_BY_LABEL]: MANAGED_BY,
  [PART_OF_LABEL]: PART_OF,
  [COMPONENT_LABEL]: EXECUTOR_COMPONENT,
  [EXECUTION_ID_LABEL]: executionId,
});

/** Annotations: what monitor needs to report an ending without reading the store. */
export const ANNOTATIONS = {
  userId: 'integr8scode.io/user-id',
  /** The `execution_requested` event the pod was made for; terminal event ids derive from the pod uid. */
  requestedEventId: 'integr8scode.io/requested-event-id',
  language: 'integr8scode.io/language',
  languageVersion: 'integr8scode.io/language-version',
  timeoutSeconds: 'integr8scode.io/timeout-seconds',
  traceparent: 'integr8scode.io/traceparent',
} as const;

/** The one container of an executor pod. */
export const SCRIPT_CONTAINER = 'script';

/** Pod and ConfigMap share one name per execution, so either is found from the execution id. */
export const executorName = (executionId: string): string => `exec-${executionId}`;

/**
 * `spec.activeDeadlineSeconds` of an executor pod is the execution's `timeout-seconds` annotation plus
 * this: room for pulling the image and starting the container (the deadline counts from the pod's
 * start, before both), and for the runner, whose own clock stops the script at `timeout-seconds`, to
 * report. The ConfigMap carries the same annotations, so a sweeper can age either object.
 */
export const ACTIVE_DEADLINE_GRACE_SECONDS = 30;

/*
 * Who deletes an executor pod: run-pod, when the execution is cancelled (`execution_cancelled` is then
 * already the terminal event) and when its ConfigMap could not be created after the pod was
 * (compensation: run-pod then publishes `pod_terminated` with reason `sandbox_error` itself); monitor,
 * once it has reported a finished pod; run-pod's safety net, for a pod still there long after its
 * deadline. The ConfigMap goes with its pod (owner reference, garbage collection).
 */

/**
 * The runner's report, JSON in the container's termination message (at most 4096 bytes, so no output
 * here; output is in the container log, see the runner). Version 1.
 */
export const RunnerReportSchema = v.object({
  v: v.literal(1),
  /** The script's exit code; 128 + signal number when a signal ended it. */
  exit_code: v.pipe(v.number(), v.integer()),
  signal: v.nullable(v.string()),
  /** The runner's own wall clock stopped the script (it also ends by activeDeadlineSeconds). */
  timed_out: v.boolean(),
  wall_ms: v.pipe(v.number(), v.minValue(0)),
  /** CPU time of the container's cgroup (user + system), null when the runner could not read it. */
  cpu_ms: v.nullable(v.pipe(v.number(), v.minValue(0))),
  /** Peak memory of the container's cgroup, null when unreadable. */
  peak_memory_bytes: v.nullable(v.pipe(v.number(), v.minValue(0))),
  stdout_bytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  stderr_bytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  stdout_truncated: v.boolean(),
  stderr_truncated: v.boolean(),
  /** Additions (optional, so reports without them stay valid): OOM kills in the container's cgroup. */
  oom_kill_count: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0)))),
  /** Set when the runner could not run the script at all (then exit_code is -1). */
  runner_error: v.optional(v.nullable(v.string())),
});
export type RunnerReport = v.InferOutput<typeof RunnerReportSchema>;

/**
 * Who reports what of an executor pod: run-pod reports `pod_created`; monitor reports `execution_started`
 * and `pod_terminated` from the pod's own status (a watch, or the ApiServerSource), so run-pod does not
 * publish those two for this backend. Every event derived from one pod has its id derived from this cause
 * (the publisher's `causedBy`), so whoever reports a pod's start or end, however often, the store keeps one.
 * A pod deleted before it ended is reported by monitor as a system error unless the execution already has
 * a terminal event or a `pod_terminated`: whoever deletes a pod on purpose (a cancel, compensation)
 * publishes its ending first, with this cause when it is the pod's `pod_terminated`.
 */
export const executorPodCause = (podUid: string): string => `executor-pod:${podUid}`;
