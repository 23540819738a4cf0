/**
 * For tests against the local control plane: a stand-in for the kubelet's container runtime. KWOK moves
 * executor pods through their phases but runs nothing; this runs what the pod's container would run — the
 * pod's command, arguments and environment, with the runner and script from its ConfigMap — as a local
 * process, then serves the process's output as the container log and ends the pod through KWOK's
 * annotations with its exit code and termination message. Volume mount paths become folders of a
 * temporary directory. No image, no cgroup: the command must exist on this machine, and CPU time and peak
 * memory come back unknown. A pod deleted while its process runs has the process killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ApiException,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import { createLogger } from '../../log';
import { EXECUTOR_SELECTOR, SCRIPT_CONTAINER } from './contract';
import { type PodWatch, startPodWatch } from './executor-pod-watch';
import { hasEnded } from './pod-outcome';
import { RUNNER_ENV } from './runner-script';
import { ContainerLogs, SIM, waitFor } from './test-cluster';

export interface ContainerRun {
  podName: string;
  exitCode: number;
  /** What the container wrote: the runner's framed log. */
  log: string;
  terminationMessage: string;
}

export class KubeletStandIn {
  private readonly core: CoreV1Api;
  private readonly logs: ContainerLogs;
  private readonly root = mkdtempSync(path.join(tmpdir(), 'integr8scode-kubelet-'));
  private readonly running = new Map<string, ChildProcess>();
  private readonly started = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private watch: PodWatch | null = null;
  /** Every container run to its end, in the order they ended. */
  readonly runs: ContainerRun[] = [];
  /** Problems running a pod (the test should see them, not a timeout). */
  readonly failures: string[] = [];

  constructor(
    private readonly config: KubeConfig,
    private readonly namespace: string,
  ) {
    this.core = config.makeApiClient(CoreV1Api);
    this.logs = new ContainerLogs(config);
  }

  /** Resolves once the executor pods are being followed. */
  async start(): Promise<void> {
    this.watch = startPodWatch({
      kubeConfig: this.config,
      namespace: this.namespace,
      labelSelector: EXECUTOR_SELECTOR,
      log: createLogger('silent'),
      resyncMs: 60_000,
      onPod: async ({ pod, deleted }) => {
        const uid = pod.metadata?.uid ?? '';
        if (deleted) {
          this.running.get(uid)?.kill('SIGKILL');
          return undefined;
        }
        if (this.started.has(uid) || hasEnded(pod) || pod.status?.phase !== 'Running') return undefined;
        this.started.add(uid);
        // Not awaited: the watch hands over this pod's next change (a deletion) while it runs.
        const run = this.run(pod).catch((error: Error) => {
          this.failures.push(`${pod.metadata?.name}: ${error.message}`);
        });
        this.inFlight.add(run);
        void run.finally(() => this.inFlight.delete(run));
        return undefined;
      },
    });
    await this.watch.synced;
  }

  async stop(): Promise<void> {
    for (const child of this.running.values()) child.kill('SIGKILL');
    await Promise.allSettled([...this.inFlight]);
    await this.watch?.stop();
    this.logs.close();
    rmSync(this.root, { recursive: true, force: true });
  }

  private async run(pod: V1Pod): Promise<void> {
    const name = pod.metadata!.name!;
    const uid = pod.metadata!.uid!;
    const container = pod.spec?.containers.find((c) => c.name === SCRIPT_CONTAINER);
    if (!container) throw new Error(`no container named ${SCRIPT_CONTAINER}`);
    // The kubelet waits for the ConfigMap volume: run-pod creates it just after the pod.
    const configMap = await waitFor(
      () => this.core.readNamespacedConfigMap({ name, namespace: this.namespace }),
      { timeoutMs: 10_000, what: `the ConfigMap ${name}` },
    );
    const dir = path.join(this.root, uid);
    const local = localPaths(dir, container);
    const code = local(codeMountPath(pod, container));
    for (const [file, content] of Object.entries(configMap.data ?? {}))
      writeFileSync(path.join(code, file), content);
    const cgroup = path.join(dir, 'cgroup');
    const terminationLog = path.join(dir, 'termination-log');
    mkdirSync(cgroup);
    writeFileSync(terminationLog, '');

    const [command, ...args] = [...(container.command ?? []), ...(container.args ?? [])].map(local.inText);
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    for (const { name: key, value } of container.env ?? []) env[key] = local.inText(value ?? '');
    env[RUNNER_ENV.cgroupDir] = cgroup;
    env[RUNNER_ENV.terminationLog] = terminationLog;

    const child = spawn(command!, args, {
      cwd: local(container.workingDir ?? '/tmp'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.running.set(uid, child);
    let log = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
    });
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
    });
    this.running.delete(uid);
    if (child.killed) return; // the pod was deleted: nothing is left to end

    const terminationMessage = readFileSync(terminationLog, 'utf8');
    // As a kubelet does, it reports the end however long the API server is away.
    await waitFor(
      async () => {
        await this.logs.serve(this.namespace, name, log).catch((error: unknown) => {
          if (!(error instanceof ApiException && error.code === 409)) throw error; // served before the outage
        });
        await this.core.patchNamespacedPod(
          {
            name,
            namespace: this.namespace,
            body: {
              metadata: {
                annotations: {
                  [SIM.outcome]: exitCode === 0 ? 'Succeeded' : 'Failed',
                  [SIM.exitCode]: String(exitCode),
                  [SIM.terminationMessage]: terminationMessage,
                },
              },
            },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: `the end of pod ${name} reported` },
    );
    this.runs.push({ podName: name, exitCode, log, terminationMessage });
  }
}

/** The mount path of the pod's ConfigMap volume in the container. */
function codeMountPath(pod: V1Pod, container: V1Container): string {
  const volume = pod.spec?.volumes?.find((v) => v.configMap);
  const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
  if (!mount) throw new Error('the pod mounts no ConfigMap');
  return mount.mountPath;
}

/**
 * Maps the container's mount paths (and its working directory) to folders under `dir`, created here:
 * `local(p)` for one path, `local.inText(s)` for every such path inside a string (arguments, variables).
 */
function localPaths(dir: string, container: V1Container) {
  const mounts = [...(container.volumeMounts ?? []).map((m) => m.mountPath), container.workingDir ?? '/tmp'];
  // Longest first, so a nested mount wins over its parent.
  const sorted = [...new Set(mounts)].sort((a, b) => b.length - a.length);
  const target = (mountPath: string) => path.join(dir, 'fs', mountPath);
  for (const mountPath of sorted) mkdirSync(target(mountPath), { recursive: true });
  const local = (p: string): string => {
    const mount = sorted.find((m) => p === m || p.startsWith(`${m}/`));
    return mount ? target(mount) + p.slice(mount.length) : p;
  };
  local.inText = (text: string): string =>
    text.replace(/\/[^\s=:]*/g, (candidate) =>
      sorted.some((m) => candidate === m || candidate.startsWith(`${m}/`)) ? local(candidate) : candidate,
    );
  return local;
}
