/**
 * The part of an executor Pod that monitor reads, from any source: the JSON an ApiServerSource or a watch
 * delivers (time stamps as strings) or an object from @kubernetes/client-node's typed calls (time stamps as
 * Dates). Parsing normalises both to ISO strings, so everything after it sees one shape.
 */
import * as v from 'valibot';
import { ANNOTATIONS, EXECUTION_ID_LABEL, SCRIPT_CONTAINER } from './contract';

const Time = v.pipe(
  v.union([v.string(), v.date()]),
  v.transform((value) => new Date(value)),
  v.check((date) => !Number.isNaN(date.getTime()), 'must be a time stamp'),
  v.transform((date) => date.toISOString()),
);
const text = v.nullish(v.string());
const time = v.nullish(Time);

const ContainerStatusSchema = v.looseObject({
  name: v.string(),
  containerID: text,
  state: v.nullish(
    v.looseObject({
      waiting: v.nullish(v.looseObject({ reason: text, message: text })),
      running: v.nullish(v.looseObject({ startedAt: time })),
      terminated: v.nullish(
        v.looseObject({
          exitCode: v.number(),
          signal: v.nullish(v.number()),
          reason: text,
          message: text,
          containerID: text,
          startedAt: time,
          finishedAt: time,
        }),
      ),
    }),
  ),
});

export const ExecutorPodSchema = v.looseObject({
  metadata: v.looseObject({
    name: v.string(),
    namespace: v.string(),
    uid: v.string(),
    labels: v.nullish(v.record(v.string(), v.string())),
    annotations: v.nullish(v.record(v.string(), v.string())),
    creationTimestamp: time,
    deletionTimestamp: time,
    deletionGracePeriodSeconds: v.nullish(v.number()),
  }),
  spec: v.nullish(v.looseObject({ nodeName: text, activeDeadlineSeconds: v.nullish(v.number()) })),
  status: v.nullish(
    v.looseObject({
      phase: text,
      reason: text,
      message: text,
      startTime: time,
      conditions: v.nullish(
        v.array(v.looseObject({ type: v.string(), status: v.string(), reason: text, message: text })),
      ),
      containerStatuses: v.nullish(v.array(ContainerStatusSchema)),
    }),
  ),
});

export type ExecutorPod = v.InferOutput<typeof ExecutorPodSchema>;
export type ContainerStatus = v.InferOutput<typeof ContainerStatusSchema>;

export function parseExecutorPod(
  input: unknown,
): { ok: true; pod: ExecutorPod } | { ok: false; error: string } {
  const result = v.safeParse(ExecutorPodSchema, input);
  if (result.success) return { ok: true, pod: result.output };
  return { ok: false, error: `not a Pod: ${v.summarize(result.issues).replaceAll('\n', ' ')}` };
}

/** What the pod's labels and annotations say about the execution it runs. */
export interface ExecutorIdentity {
  executionId: string;
  podName: string;
  podUid: string;
  userId: string | undefined;
  traceparent: string | undefined;
  /** The execution's wall-clock limit; the pod's activeDeadlineSeconds when the annotation is missing. */
  timeoutSeconds: number;
}

/** Null for a pod without the execution label: not one of ours, whatever else it carries. */
export function executorIdentity(pod: ExecutorPod): ExecutorIdentity | null {
  const executionId = pod.metadata.labels?.[EXECUTION_ID_LABEL];
  if (!executionId) return null;
  const annotations = pod.metadata.annotations ?? {};
  const annotated = Number(annotations[ANNOTATIONS.timeoutSeconds]);
  return {
    executionId,
    podName: pod.metadata.name,
    podUid: pod.metadata.uid,
    userId: annotations[ANNOTATIONS.userId] || undefined,
    traceparent: annotations[ANNOTATIONS.traceparent] || undefined,
    timeoutSeconds:
      Number.isFinite(annotated) && annotated > 0 ? annotated : (pod.spec?.activeDeadlineSeconds ?? 0),
  };
}

/** The script's container: the one named by the contract, else the only one. */
export function scriptContainer(pod: ExecutorPod): ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.find((status) => status.name === SCRIPT_CONTAINER) ?? statuses[0];
}
