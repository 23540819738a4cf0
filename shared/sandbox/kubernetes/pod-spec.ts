/**
 * The objects of one execution, as pure functions of its inputs: a hardened Pod (restricted Pod
 * Security, no service-account token, no service links, a user namespace, requests and limits, a
 * size-capped memory-backed /tmp, a deadline) and the ConfigMap it mounts (runner, script, stdin),
 * owned by the Pod so garbage collection removes it with the Pod.
 */
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { formatBytes } from '../../config/config';
import type { SandboxLimits } from '../port';
import {
  ACTIVE_DEADLINE_GRACE_SECONDS,
  ANNOTATIONS,
  executorLabels,
  executorName,
  SCRIPT_CONTAINER,
} from './contract';
import { RUNNER_ENV, RUNNER_OWN_PROCESSES, RUNNER_SCRIPT } from './runner-script';
import type { KubernetesRuntime } from './runtime-registry';

/** The ConfigMap (read-only), and the runner's own scratch space for the output it keeps. */
export const CODE_DIR = '/integr8scode/code';
export const WORK_DIR = '/integr8scode/work';
/** An unprivileged uid and gid (nobody); with `hostUsers: false` it maps to an unused host uid. */
export const SCRIPT_UID = 65534;
/** The API server refuses a ConfigMap whose keys and values together exceed 1 MiB. */
export const MAX_CONFIGMAP_BYTES = 1024 * 1024;

export interface PodResources {
  cpuRequest: string;
  cpuLimit: string;
  memoryRequest: string;
  memoryLimit: string;
}

/** Who and what the pod is for, written into its annotations for monitor. */
export interface PodOwner {
  userId?: string;
  requestedEventId?: string;
  traceparent?: string;
}

export interface ExecutorPodInput {
  namespace: string;
  executionId: string;
  runtime: KubernetesRuntime;
  limits: SandboxLimits;
  resources: PodResources;
  owner: PodOwner;
  /** A RuntimeClass such as gVisor's `gvisor`; the cluster default when absent. */
  runtimeClassName?: string;
}

export const timeoutSecondsOf = (limits: SandboxLimits): number =>
  Math.max(1, Math.ceil(limits.wallTimeoutMs / 1000));

function annotationsOf(input: ExecutorPodInput): Record<string, string> {
  const annotations: Record<string, string> = {
    [ANNOTATIONS.language]: input.runtime.language,
    [ANNOTATIONS.languageVersion]: input.runtime.version,
    [ANNOTATIONS.timeoutSeconds]: String(timeoutSecondsOf(input.limits)),
  };
  if (input.owner.userId) annotations[ANNOTATIONS.userId] = input.owner.userId;
  if (input.owner.requestedEventId) annotations[ANNOTATIONS.requestedEventId] = input.owner.requestedEventId;
  if (input.owner.traceparent) annotations[ANNOTATIONS.traceparent] = input.owner.traceparent;
  return annotations;
}

const RESTRICTED = {
  runAsNonRoot: true,
  runAsUser: SCRIPT_UID,
  runAsGroup: SCRIPT_UID,
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

export function buildExecutorPod(input: ExecutorPodInput): V1Pod {
  const { limits, runtime, resources } = input;
  const name = executorName(input.executionId);
  const timeoutSeconds = timeoutSecondsOf(limits);
  // The runner keeps at most a head and a tail of OUTPUT_LIMIT bytes per stream.
  const workBytes = 2 * limits.outputBytesPerStream + 1024 * 1024;
  const runnerEnv: Record<string, string> = {
    [RUNNER_ENV.timeoutSeconds]: String(timeoutSeconds),
    [RUNNER_ENV.outputLimit]: String(limits.outputBytesPerStream),
    [RUNNER_ENV.cpuSeconds]: String(Math.max(1, Math.ceil(limits.cpuTimeMs / 1000))),
    [RUNNER_ENV.maxProcesses]: String(limits.maxProcesses + RUNNER_OWN_PROCESSES),
    [RUNNER_ENV.workDir]: WORK_DIR,
    [RUNNER_ENV.stdinFile]: `${CODE_DIR}/stdin`,
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: input.namespace,
      labels: executorLabels(input.executionId),
      annotations: annotationsOf(input),
    },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: timeoutSeconds + ACTIVE_DEADLINE_GRACE_SECONDS,
      terminationGracePeriodSeconds: 1,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      // A user namespace of its own: uid 0 inside, if ever reached, is nobody on the node.
      hostUsers: false,
      ...(input.runtimeClassName ? { runtimeClassName: input.runtimeClassName } : {}),
      securityContext: { ...RESTRICTED },
      containers: [
        {
          name: SCRIPT_CONTAINER,
          image: runtime.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['/bin/sh', `${CODE_DIR}/runner.sh`],
          // NAME=VALUE words for env -i (the script's whole environment), then the command and the script.
          args: [
            ...Object.entries(runtime.env).map(([key, value]) => `${key}=${value}`),
            ...runtime.command,
            `${CODE_DIR}/${runtime.fileName}`,
          ],
          workingDir: '/tmp',
          env: Object.entries(runnerEnv).map(([key, value]) => ({ name: key, value })),
          resources: {
            requests: { cpu: resources.cpuRequest, memory: resources.memoryRequest },
            limits: { cpu: resources.cpuLimit, memory: resources.memoryLimit },
          },
          securityContext: {
            ...RESTRICTED,
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          volumeMounts: [
            { name: 'code', mountPath: CODE_DIR, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
            { name: 'work', mountPath: WORK_DIR },
          ],
        },
      ],
      volumes: [
        { name: 'code', configMap: { name, defaultMode: 0o444 } },
        // Memory-backed, so what the script writes there also counts against its memory limit.
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: formatBytes(limits.tmpBytes) } },
        { name: 'work', emptyDir: { medium: 'Memory', sizeLimit: formatBytes(workBytes) } },
      ],
    },
  };
}

/** What the ConfigMap holds: the runner, the script under its runtime's file name, and stdin. */
export function scriptFiles(
  runtime: KubernetesRuntime,
  script: string,
  stdin: string,
): Record<string, string> {
  return { 'runner.sh': RUNNER_SCRIPT, [runtime.fileName]: script, stdin };
}

/** Bytes the API server counts against MAX_CONFIGMAP_BYTES (keys and values). */
export const configMapBytes = (data: Record<string, string>): number =>
  Object.entries(data).reduce(
    (sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value),
    0,
  );

export function buildScriptConfigMap(
  pod: {
    name: string;
    namespace: string;
    uid: string;
    executionId: string;
    annotations: Record<string, string>;
  },
  data: Record<string, string>,
): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      labels: executorLabels(pod.executionId),
      annotations: pod.annotations,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid, controller: true }],
    },
    immutable: true,
    data,
  };
}
