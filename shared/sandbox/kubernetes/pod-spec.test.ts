import { describe, expect, it } from 'vitest';
import { manifests } from '../../../knative/manifests';
import type { SandboxLimits } from '../port';
import {
  ACTIVE_DEADLINE_GRACE_SECONDS,
  ANNOTATIONS,
  EXECUTION_ID_LABEL,
  EXECUTOR_SELECTOR,
  SCRIPT_CONTAINER,
} from './contract';
import {
  buildExecutorPod,
  buildScriptConfigMap,
  CODE_DIR,
  configMapBytes,
  type ExecutorPodInput,
  scriptFiles,
} from './pod-spec';
import { RUNNER_OWN_PROCESSES, RUNNER_SCRIPT } from './runner-script';
import { loadRuntimeRegistry } from './runtime-registry';

const limits: SandboxLimits = {
  wallTimeoutMs: 30_000,
  cpuTimeMs: 30_000,
  memoryBytes: 128 * 1024 * 1024,
  maxProcesses: 64,
  tmpBytes: 16 * 1024 * 1024,
  outputBytesPerStream: 1024 * 1024,
};
const python = loadRuntimeRegistry().find('python', '3.12')!;
const input: ExecutorPodInput = {
  namespace: 'integr8scode-executions',
  executionId: '0b9e2f4c-5d6a-4b7c-8d9e-0f1a2b3c4d5e',
  runtime: python,
  limits,
  resources: { cpuRequest: '200m', cpuLimit: '1000m', memoryRequest: '64Mi', memoryLimit: '128Mi' },
  owner: { userId: 'user-1', requestedEventId: 'event-1', traceparent: '00-abc-def-01' },
};

/** A label selector's match on labels: matchLabels and the In/Exists expressions the manifests use. */
function selects(
  selector: {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  },
  labels: Record<string, string>,
): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values }) =>
    operator === 'Exists' ? key in labels : operator === 'In' ? values!.includes(labels[key]!) : false,
  );
  return byLabel && byExpression;
}

describe('executor pod spec', () => {
  const pod = buildExecutorPod(input);
  const spec = pod.spec!;
  const container = spec.containers[0]!;

  it('is named, labelled and annotated as the contract says', () => {
    expect(pod.metadata!.name).toBe(`exec-${input.executionId}`);
    expect(pod.metadata!.namespace).toBe('integr8scode-executions');
    expect(pod.metadata!.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'integr8scode',
      'app.kubernetes.io/part-of': 'integr8scode',
      'app.kubernetes.io/component': 'executor',
      [EXECUTION_ID_LABEL]: input.executionId,
    });
    for (const term of EXECUTOR_SELECTOR.split(',')) {
      const [key, value] = term.split('=');
      expect(pod.metadata!.labels![key!]).toBe(value);
    }
    expect(pod.metadata!.annotations).toEqual({
      [ANNOTATIONS.userId]: 'user-1',
      [ANNOTATIONS.requestedEventId]: 'event-1',
      [ANNOTATIONS.language]: 'python',
      [ANNOTATIONS.languageVersion]: '3.12',
      [ANNOTATIONS.timeoutSeconds]: '30',
      [ANNOTATIONS.traceparent]: '00-abc-def-01',
    });
  });

  it('meets restricted Pod Security and keeps the platform out of reach', () => {
    expect(spec).toMatchObject({
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostUsers: false,
      activeDeadlineSeconds: 30 + ACTIVE_DEADLINE_GRACE_SECONDS,
      securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(spec.hostNetwork ?? false).toBe(false);
    expect(spec.hostPID ?? false).toBe(false);
    expect(spec.hostIPC ?? false).toBe(false);
    expect(spec.runtimeClassName).toBeUndefined();
    expect(spec.containers).toHaveLength(1);
    expect(container.name).toBe(SCRIPT_CONTAINER);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext!.capabilities!.add).toBeUndefined();
    expect(container.terminationMessagePolicy).toBe('File');
    expect(container.ports).toBeUndefined();
  });

  it('takes requests and limits from the request and caps /tmp and the runner scratch space', () => {
    expect(container.resources).toEqual({
      requests: { cpu: '200m', memory: '64Mi' },
      limits: { cpu: '1000m', memory: '128Mi' },
    });
    expect(spec.volumes).toEqual([
      { name: 'code', configMap: { name: pod.metadata!.name, defaultMode: 0o444 } },
      { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      { name: 'work', emptyDir: { medium: 'Memory', sizeLimit: '3Mi' } },
    ]);
    expect(container.volumeMounts).toContainEqual({ name: 'code', mountPath: CODE_DIR, readOnly: true });
  });

  it('runs the runner with the runtime environment, command and script, and the limits in its env', () => {
    expect(container.image).toBe(python.image);
    expect(container.command).toEqual(['/bin/sh', `${CODE_DIR}/runner.sh`]);
    expect(container.args!.slice(-2)).toEqual(['python3', `${CODE_DIR}/main.py`]);
    expect(container.args).toContain('HOME=/tmp');
    expect(container.args).toContain('PYTHONUNBUFFERED=1');
    const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      RUNNER_TIMEOUT_SECONDS: '30',
      RUNNER_OUTPUT_LIMIT: String(1024 * 1024),
      RUNNER_CPU_SECONDS: '30',
      RUNNER_MAX_PROCESSES: String(64 + RUNNER_OWN_PROCESSES),
    });
  });

  it('sets the runtime class when one is configured', () => {
    expect(buildExecutorPod({ ...input, runtimeClassName: 'gvisor' }).spec!.runtimeClassName).toBe('gvisor');
  });

  it('builds the ConfigMap owned by the pod, with runner, script and stdin', () => {
    const data = scriptFiles(python, 'print(1)', 'in');
    expect(data).toEqual({ 'runner.sh': RUNNER_SCRIPT, 'main.py': 'print(1)', stdin: 'in' });
    expect(configMapBytes({ 'a.py': 'é' })).toBe(6);
    const configMap = buildScriptConfigMap(
      {
        name: pod.metadata!.name!,
        namespace: input.namespace,
        uid: 'pod-uid',
        executionId: input.executionId,
        annotations: pod.metadata!.annotations!,
      },
      data,
    );
    expect(configMap.metadata).toMatchObject({
      name: pod.metadata!.name,
      labels: pod.metadata!.labels,
      annotations: pod.metadata!.annotations,
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name, uid: 'pod-uid', controller: true },
      ],
    });
    expect(configMap.immutable).toBe(true);
  });

  it('is cut off by a deny-all NetworkPolicy and seen by the ApiServerSource of knative/', () => {
    const all = Object.values(manifests()).flat() as {
      kind: string;
      metadata: { namespace?: string };
      spec: Record<string, unknown>;
    }[];
    const labels = pod.metadata!.labels!;
    const denyAll = all.filter(
      (doc) =>
        doc.kind === 'NetworkPolicy' &&
        doc.metadata.namespace === input.namespace &&
        selects(doc.spec.podSelector as never, labels),
    );
    expect(denyAll.length).toBeGreaterThan(0);
    for (const policy of denyAll) {
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(policy.spec.ingress ?? []).toEqual([]);
      expect(policy.spec.egress ?? []).toEqual([]);
    }
    const source = all.find((doc) => doc.kind === 'ApiServerSource')!;
    const resources = source.spec.resources as { kind: string; selector: never }[];
    expect(resources.some((r) => r.kind === 'Pod' && selects(r.selector, labels))).toBe(true);
  });
});
