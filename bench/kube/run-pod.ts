/**
 * run-pod on the Kubernetes backend against the local API server (scripts/services/services.sh start
 * kube): the time from an `execution_requested` CloudEvent reaching run-pod to its Pod and ConfigMap
 * existing (target p50 ≤ 50 ms), and to `pod_created` being published (stored, fanned out, on the bus).
 * One execution at a time, each pod deleted once measured; at most BENCH_EXECUTIONS (200) executions or
 * BENCH_SECONDS (60) seconds. Uses the embedded platform (SQLite, in-process bus) in a temporary folder
 * and a namespace of its own, removed at the end.
 *
 *   npx tsx bench/kube/run-pod.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createRunPodApp } from '../../functions/run-pod/app';
import { loadConfig } from '../../shared/config/config';
import { toBinaryRequest } from '../../shared/events/cloudevents';
import type { EventOf } from '../../shared/events/schemas';
import { submitExecution } from '../../shared/executions/submission';
import { createLogger } from '../../shared/log';
import { createEmbeddedPlatform } from '../../shared/platform/embedded';
import { executorName } from '../../shared/sandbox/kubernetes/contract';
import { createKubernetesSandbox } from '../../shared/sandbox/kubernetes/kubernetes-sandbox';
import type { CreatedPod, PodSandbox } from '../../shared/sandbox/kubernetes/pod-run';
import { loadRuntimeRegistry } from '../../shared/sandbox/kubernetes/runtime-registry';
import { aUser } from '../../shared/store/contracts/fixtures';

const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const WARMUP = 5;
const TARGET_P50_MS = 50;

function kubeconfigFile(): string {
  let file = process.env.INTEGR8S_KUBECONFIG;
  if (!file) {
    try {
      const out = execFileSync('bash', ['scripts/services/services.sh', 'env'], { encoding: 'utf8' });
      file = /INTEGR8S_KUBECONFIG=(\S+)/.exec(out)?.[1];
    } catch {
      // reported below
    }
  }
  if (!file) {
    console.error('No Kubernetes control plane: bash scripts/services/services.sh start kube');
    process.exit(2);
  }
  return file;
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const ms = (value: number) => `${value.toFixed(1)} ms`;
const summary = (values: number[]) =>
  `p50 ${ms(percentile(values, 50))}  p95 ${ms(percentile(values, 95))}  max ${ms(Math.max(...values))}`;

async function main(): Promise<void> {
  const kubeconfig = kubeconfigFile();
  const admin = new KubeConfig();
  admin.loadFromFile(kubeconfig);
  const core = admin.makeApiClient(CoreV1Api);
  const namespace = `integr8s-bench-${Date.now().toString(36)}`;
  await core.createNamespace({
    body: { metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
  });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'integr8scode-bench-kube-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    DEMO_ACCOUNT: 'false',
    RATE_LIMIT_ENABLED: 'false',
    SANDBOX_BACKEND: 'kubernetes',
    KUBERNETES_NAMESPACE: namespace,
    KUBECONFIG: kubeconfig,
  });
  const backend = createKubernetesSandbox({
    namespace,
    kubeconfig,
    registry: loadRuntimeRegistry(),
    log: createLogger('silent'),
    defaultResources: { cpuRequest: config.CPU_REQUEST, cpuLimit: config.CPU_LIMIT, memoryRequest: '128Mi' },
  });
  // When run-pod asks for each run's objects, and when they exist, as the backend reports it.
  const asked = new Map<string, number>();
  const created = new Map<string, number>();
  const sandbox: PodSandbox = Object.assign(Object.create(backend) as PodSandbox, {
    start: (...args: Parameters<PodSandbox['start']>) => {
      asked.set(args[0].executionId, performance.now());
      const run = backend.start(...args);
      void run.created.then((pod: CreatedPod | null) => {
        if (pod) created.set(args[0].executionId, performance.now());
      });
      return run;
    },
  });
  const platform = await createEmbeddedPlatform(config, { sandbox });
  const published = new Map<string, number>();
  platform.bus.subscribe({
    name: 'bench',
    eventTypes: ['pod_created'],
    // The subject is the aggregate: the execution id.
    deliver: async (request) => {
      published.set(request.headers.get('ce-subject') ?? '', performance.now());
      return new Response(null, { status: 200 });
    },
  });
  const user = aUser({ user_id: crypto.randomUUID(), username: 'bench', email: 'bench@example.com' });
  await platform.store.users.create(user);
  const app = createRunPodApp(platform);

  const toAsked: number[] = [];
  const toCreated: number[] = [];
  const toPublished: number[] = [];
  const started = Date.now();
  try {
    for (let i = 0; i < WARMUP + EXECUTIONS && Date.now() - started < SECONDS * 1000; i++) {
      const { execution_id: id } = await submitExecution(platform, user, {
        script: 'print(1)',
        lang: 'python',
        stdin: '',
      });
      const [requested] = await platform.store.events.listByAggregate(id);
      const event = requested!.event as EventOf<'execution_requested'>;
      const t0 = performance.now();
      const response = await app.fetch(toBinaryRequest(event, 'http://run-pod.local/'));
      if (response.status !== 200) throw new Error(`run-pod answered ${response.status}`);
      for (let waited = 0; !published.has(id); waited++) {
        if (waited > 2000) throw new Error(`no pod_created for ${id} within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (i >= WARMUP) {
        toAsked.push(asked.get(id)! - t0);
        toCreated.push(created.get(id)! - t0);
        toPublished.push(published.get(id)! - t0);
      }
      await core.deleteNamespacedPod({ name: executorName(id), namespace, body: { gracePeriodSeconds: 0 } });
    }
  } finally {
    await platform.close();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }

  const p50 = percentile(toCreated, 50);
  console.log(
    `run-pod on Kubernetes: ${toCreated.length} executions, one at a time, against ${admin.getCurrentCluster()?.server}`,
  );
  console.log(`execution_requested → sandbox asked (admission)   ${summary(toAsked)}`);
  console.log(`execution_requested → Pod and ConfigMap created   ${summary(toCreated)}`);
  console.log(`execution_requested → pod_created published       ${summary(toPublished)}`);
  console.log(`target p50 ≤ ${TARGET_P50_MS} ms: ${p50 <= TARGET_P50_MS ? 'PASS' : 'FAIL'}`);
}

await main();
