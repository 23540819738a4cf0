/**
 * monitor on the Kubernetes backend against the local API server (scripts/services/services.sh start
 * kube): the time from a pod's terminal status reaching a watcher to its terminal execution event being
 * published (stored, fanned out, on the bus), including the read of the pod's log (target p50 ≤ 50 ms).
 * KWOK ends each pod (`Succeeded` after 300 ms) with the runner's report as termination message, and
 * serves the runner's framed output as its log. monitor runs its own watch as its own ServiceAccount with
 * the Role knative/ grants it, on the embedded platform (SQLite, in-process bus) in a temporary folder and a
 * namespace of its own, removed at the end. At most BENCH_PODS (200) pods or BENCH_SECONDS (60) seconds,
 * BENCH_CONCURRENCY (4) running at once.
 *
 *   npx tsx bench/kube/monitor.ts
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { type V1Pod, Watch } from '@kubernetes/client-node';
import { aReport, MonitorFixture, newExecutionId } from '../../functions/monitor/kube-fixture';
import type { DomainEvent } from '../../shared/events/schemas';
import { kubernetesExecutorCluster } from '../../shared/sandbox/kubernetes/executor-cluster';

const PODS = Math.min(200, Number(process.env.BENCH_PODS ?? 200));
const SECONDS = Math.min(60, Number(process.env.BENCH_SECONDS ?? 60));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const WARMUP = 5;
const TARGET_P50_MS = 50;
const TERMINAL = new Set(['execution_completed', 'execution_failed', 'execution_timeout']);

function useLocalControlPlane(): void {
  if (process.env.INTEGR8S_KUBECONFIG) return;
  try {
    const out = execFileSync('bash', ['scripts/services/services.sh', 'env'], { encoding: 'utf8' });
    const file = /INTEGR8S_KUBECONFIG=(\S+)/.exec(out)?.[1];
    if (file) process.env.INTEGR8S_KUBECONFIG = file;
  } catch {
    // reported below
  }
  if (!process.env.INTEGR8S_KUBECONFIG) {
    console.error('No Kubernetes control plane: bash scripts/services/services.sh start kube');
    process.exit(2);
  }
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const ms = (value: number) => `${value.toFixed(1)} ms`;
const summary = (values: number[]) =>
  `p50 ${ms(percentile(values, 50))}  p95 ${ms(percentile(values, 95))}  max ${ms(Math.max(...values))}`;

interface Sample {
  /** The pod's terminal status reached the bench's own watch. */
  endSeen?: number;
  logReadMs?: number;
  /** The terminal execution event's publish resolved. */
  published?: number;
  done: () => void;
}

async function main(): Promise<void> {
  useLocalControlPlane();
  const fixture = await MonitorFixture.create('integr8s-bench-monitor');
  const samples = new Map<string, Sample>();
  const byPod = new Map<string, string>();
  try {
    // Time the terminal events as monitor publishes them.
    const events = fixture.platform.events;
    const publish = events.publish.bind(events);
    events.publish = async (event: DomainEvent, ...rest) => {
      const stored = await publish(event, ...rest);
      const sample = 'execution_id' in event ? samples.get(event.execution_id) : undefined;
      if (sample && TERMINAL.has(event.event_type) && sample.published === undefined) {
        sample.published = performance.now();
        sample.done();
      }
      return stored;
    };
    // Time the log reads monitor makes.
    const cluster = kubernetesExecutorCluster(fixture.monitorConfig, fixture.namespace);
    const readLog = cluster.readLog;
    cluster.readLog = async (name) => {
      const began = performance.now();
      const text = await readLog(name);
      const sample = samples.get(byPod.get(name) ?? '');
      if (sample) sample.logReadMs = performance.now() - began;
      return text;
    };
    // The moment the API server reports each pod ended, seen by a watch of the bench's own.
    const observer = await new Watch(fixture.admin).watch(
      `/api/v1/namespaces/${fixture.namespace}/pods`,
      {},
      (_type, pod: V1Pod) => {
        const sample = samples.get(byPod.get(pod.metadata?.name ?? '') ?? '');
        const phase = pod.status?.phase;
        if (sample && sample.endSeen === undefined && (phase === 'Succeeded' || phase === 'Failed')) {
          sample.endSeen = performance.now();
        }
      },
      () => {},
    );
    fixture.startMonitor({ MONITOR_RESYNC_SECONDS: 600 }, cluster);

    const deadline = performance.now() + SECONDS * 1000;
    let started = 0;
    const runOne = async () => {
      const executionId = newExecutionId();
      const finished = new Promise<void>((resolve) => {
        samples.set(executionId, { done: resolve });
      });
      const stdout = 'x'.repeat(1000);
      const pod = await fixture.createPod({
        executionId,
        simulate: { outcome: 'Succeeded', runFor: '300ms' },
        output: { stdout, report: aReport({ stdout_bytes: stdout.length }) },
        configMap: true,
      });
      byPod.set(pod.metadata!.name!, executionId);
      await Promise.race([finished, new Promise((r) => setTimeout(r, 20_000))]);
    };
    const worker = async () => {
      while (started < PODS && performance.now() < deadline) {
        started++;
        await runOne();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    observer.abort();

    const measured = [...samples.values()].slice(WARMUP);
    const complete = measured.filter((s) => s.endSeen !== undefined && s.published !== undefined);
    const latency = complete.map((s) => s.published! - s.endSeen!);
    const logReads = measured.flatMap((s) => (s.logReadMs === undefined ? [] : [s.logReadMs]));
    let duplicates = 0;
    for (const id of samples.keys()) {
      const counts = await fixture.counts(id);
      if ((counts.execution_completed ?? 0) > 1 || (counts.pod_terminated ?? 0) > 1) duplicates++;
    }
    console.log(
      `monitor (Kubernetes): ${samples.size} pods, ${CONCURRENCY} at once, ${WARMUP} warm-up not counted`,
    );
    console.log(`  pod ended → terminal event published: ${summary(latency)}  (n=${latency.length})`);
    console.log(`  the log read alone:                   ${summary(logReads)}  (n=${logReads.length})`);
    console.log(`  pods without a terminal event in 20 s: ${measured.length - complete.length}`);
    console.log(`  executions with more than one ending:  ${duplicates}`);
    const p50 = percentile(latency, 50);
    console.log(
      `  target p50 ≤ ${TARGET_P50_MS} ms: ${p50 <= TARGET_P50_MS ? 'met' : 'NOT met'} (${ms(p50)})`,
    );
  } finally {
    await fixture.close();
  }
}

await main();
