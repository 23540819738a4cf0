/**
 * The local sandbox backend: each run is a bubblewrap container (new user, pid, ipc, uts, net, cgroup and
 * mount namespaces, no capabilities, seccomp, read-only system dirs, a size-capped /tmp, uid 65534)
 * inside its own cgroups, which limit memory and processes and measure CPU and peak memory exactly.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../log';
import { CappedStream } from '../output';
import type {
  RuntimeInfo,
  Sandbox,
  SandboxHooks,
  SandboxLimits,
  SandboxOutcome,
  SandboxRun,
  SandboxSpec,
  SandboxStatus,
} from '../port';
import { type DiscoveredRuntime, discoverRuntimes, type RuntimeDiscovery } from '../runtimes';
import {
  bwrapArgs,
  dropPrivileges,
  FD_SCRIPT,
  FD_SECCOMP,
  FD_STATUS,
  FD_USAGE,
  SANDBOX_UID,
  SCRIPT_DIR,
  systemBinds,
  wrapperScript,
} from './bwrap';
import { type CgroupBackend, type CgroupUsage, detectCgroups, type RunCgroup } from './cgroups';
import { buildSeccompProgram, encodeSeccompProgram } from './seccomp';

/** The platform's default limits (config defaults); runtimes that need more than these are not offered. */
export const DEFAULT_LOCAL_LIMITS: SandboxLimits = {
  wallTimeoutMs: 30_000,
  cpuTimeMs: 30_000,
  memoryBytes: 128 * 1024 * 1024,
  maxProcesses: 64,
  tmpBytes: 16 * 1024 * 1024,
  outputBytesPerStream: 1024 * 1024,
};

export interface LocalSandboxOptions {
  workDir: string;
  /** Run scripts with rlimits only when bubblewrap cannot be used. Never on a shared machine. */
  allowUnsandboxed: boolean;
  log: Logger;
  /** Limits a runtime's hello world must fit in to be offered; DEFAULT_LOCAL_LIMITS when absent. */
  defaultLimits?: SandboxLimits;
  /** 'off' ignores writable cgroups and uses the rlimit-only fallback (to exercise it). */
  cgroups?: 'auto' | 'off';
  /**
   * Whether to try the hello world of runtimes that need one (go) in the background after creation;
   * until it passes they are not offered. Default true.
   */
  probeRuntimes?: boolean;
  /** Where bubblewrap is installed; /usr/bin/bwrap when absent. Must live under /usr. */
  bwrapPath?: string;
}

export interface LocalSandbox extends Sandbox {
  readonly backend: 'local';
}

const PYTHON = '/usr/bin/python3';
const LIVE_FLUSH_MS = 20;
const LIVE_FLUSH_BYTES = 64 * 1024;
/** The outer bwrap and its pid-1 reaper are in the run's cgroup too. */
const BWRAP_PROCESSES = 2;
const CPU_POLL_MS = 100;

/**
 * Without cgroups, a small Python parent inside the sandbox runs the script as a child subreaper, so
 * every descendant is reaped by it, and reports the tree's CPU time (exact) and the largest single
 * RSS (not the sum) from getrusage(RUSAGE_CHILDREN) on the usage fd.
 * argv: mode, process limit, command. Mode 'all' means it is alone in a pid namespace and may kill
 * what is left once the script ends. The process limit is RLIMIT_NPROC set inside the sandbox's user
 * namespace, where it counts only the sandbox's own processes (0: none).
 */
const RUSAGE_WRAPPER = [
  'import ctypes, json, os, resource, signal, sys',
  'mode, nproc, command = sys.argv[1], int(sys.argv[2]), sys.argv[3:]',
  'ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)',
  'if nproc > 0:',
  '    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))',
  'main = os.fork()',
  'if main == 0:',
  '    try:',
  `        os.close(${FD_USAGE})`,
  '    except OSError:',
  '        pass',
  '    os.execv(command[0], command)',
  'status = 0',
  'while True:',
  '    try:',
  '        pid, st = os.wait()',
  '    except ChildProcessError:',
  '        break',
  '    if pid == main:',
  '        status = st',
  '        if mode != "all":',
  '            break',
  '        try:',
  '            os.kill(-1, signal.SIGKILL)',
  '        except ProcessLookupError:',
  '            pass',
  'ru = resource.getrusage(resource.RUSAGE_CHILDREN)',
  'try:',
  `    os.write(${FD_USAGE}, json.dumps({"cpu": ru.ru_utime + ru.ru_stime, "maxrss": ru.ru_maxrss * 1024}).encode())`,
  'except OSError:',
  '    pass',
  'code = os.waitstatus_to_exitcode(status)',
  'sys.exit(code if code >= 0 else 128 - code)',
].join('\n');

interface Setup {
  bwrap: string;
  bwrapVersion: string | null;
  problem: string | null;
  cgroups: CgroupBackend | null;
  cgroupProblems: string[];
  dropToUid: number | null;
  binds: string[];
  seccompFile: string;
  runtimes: DiscoveredRuntime[];
}

export async function createLocalSandbox(options: LocalSandboxOptions): Promise<LocalSandbox> {
  const { log } = options;
  const runsDir = join(options.workDir, 'runs');
  const seccompFile = join(options.workDir, 'seccomp.bpf');
  const isRoot = process.getuid?.() === 0;
  const dropToUid = isRoot && existsSync('/usr/bin/setpriv') ? SANDBOX_UID : null;
  const bwrap = options.bwrapPath ?? '/usr/bin/bwrap';
  const binds = systemBinds();
  // Each step waits on the disk, the kernel or child processes and none needs another: all at once.
  const [discovery, cgroupResult, bubblewrap] = await Promise.all([
    discoverRuntimes(),
    options.cgroups === 'off' ? null : detectCgroups(),
    probeBubblewrap(bwrap, dropToUid, binds),
    mkdir(runsDir, { recursive: true, mode: 0o700 }).then(() =>
      writeFile(seccompFile, encodeSeccompProgram(buildSeccompProgram()), { mode: 0o600 }),
    ),
  ]);
  const python = discovery.found.find((runtime) => runtime.language === 'python');
  logMissing(log, discovery);

  const setup: Setup = {
    bwrap,
    bwrapVersion: bubblewrap.version,
    problem: python
      ? bubblewrap.problem
      : `python is required: ${PYTHON} not found or unusable (apt-get install python3)`,
    cgroups: cgroupResult?.backend ?? null,
    cgroupProblems: cgroupResult?.problems ?? ['cgroups turned off'],
    dropToUid,
    binds,
    seccompFile,
    runtimes: discovery.found,
  };

  const sandbox = new LocalSandboxImpl(options, runsDir, setup);
  if (setup.problem) {
    if (options.allowUnsandboxed) {
      const warning =
        'SANDBOX DISABLED: scripts run WITHOUT isolation (rlimits only), unsandboxed runs allowed';
      log.warn(warning, { problem: setup.problem });
    } else {
      log.error('sandbox not ready: executions will fail until this is fixed', { problem: setup.problem });
    }
  }
  if (!setup.cgroups) {
    log.warn('no writable cgroups: memory limited by RLIMIT_AS, CPU and peak memory from getrusage', {
      tried: setup.cgroupProblems,
    });
  }
  if (options.probeRuntimes !== false) {
    sandbox
      .probeRuntimes(options.defaultLimits ?? DEFAULT_LOCAL_LIMITS)
      .catch((error) => log.error('sandbox runtime probe failed', { error }));
  }
  return sandbox;
}

function logMissing(log: Logger, discovery: RuntimeDiscovery): void {
  for (const { language, why } of discovery.missing) {
    log.info('sandbox runtime not available', { language, why });
  }
}

/**
 * The local sandbox as a function process that runs no scripts sees it: it offers what a sandbox created
 * with `probeRuntimes: false` offers (the runtimes found that need no trial build; none when `list` is
 * false) and refuses every run, without the set-up only running needs (bubblewrap trial, cgroups,
 * seccomp filter).
 */
export async function createRuntimeList(options: { list: boolean; log: Logger }): Promise<LocalSandbox> {
  let offered: RuntimeInfo[] = [];
  if (options.list) {
    const discovery = await discoverRuntimes();
    logMissing(options.log, discovery);
    offered = discovery.found
      .filter((runtime) => !runtime.definition.probe)
      .map(({ language, version, fileExt }) => ({ language, version, fileExt }));
  }
  const problem = 'this function runs no scripts (run-pod does)';
  return {
    backend: 'local',
    check: async () => ({ ready: false, problem, features: [] }),
    runtimes: () => [...offered],
    start: (spec) => ({
      podName: `local-${spec.executionId}`.slice(0, 63),
      outcome: Promise.resolve(neverRan(problem)),
      cancel: async () => undefined,
    }),
    close: async () => undefined,
  };
}

function runCommand(
  file: string,
  args: string[],
): Promise<{ ok: boolean; output: string; missing: boolean }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000, env: {} }, (error, stdout, stderr) => {
      const missing = (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
      resolve({ ok: !error, output: `${stdout}${stderr}`.trim(), missing });
    });
  });
}

/** bubblewrap must exist and be able to create every namespace we ask for, as the sandbox user. */
async function probeBubblewrap(
  bwrap: string,
  dropToUid: number | null,
  binds: string[],
): Promise<{ version: string | null; problem: string | null }> {
  const version = await runCommand(bwrap, ['--version']);
  if (!version.ok) {
    const problem = version.missing
      ? `bubblewrap is not installed (${bwrap} missing): apt-get install bubblewrap (or dnf install bubblewrap)`
      : `bubblewrap does not run: ${version.output}`;
    return { version: null, problem };
  }
  const trial = [
    ...(dropToUid === null ? [] : dropPrivileges(dropToUid)),
    bwrap,
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--cap-drop',
    'ALL',
    ...binds,
    '--proc',
    '/proc',
    '--size',
    '65536',
    '--tmpfs',
    '/tmp',
    '--',
    '/usr/bin/true',
  ];
  const result = await runCommand(trial[0]!, trial.slice(1));
  return {
    version: version.output.replace(/^bubblewrap\s*/, ''),
    problem: result.ok
      ? null
      : `bubblewrap cannot create its namespaces (${result.output || 'no message'}). Enable unprivileged user ` +
        'namespaces: sysctl -w kernel.unprivileged_userns_clone=1 (Debian) and user.max_user_namespaces > 0; ' +
        'on Ubuntu 24.04+ also sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap',
  };
}

class LocalSandboxImpl implements LocalSandbox {
  readonly backend = 'local' as const;
  private readonly active = new Set<SandboxRun>();
  /** Cleanups still running after their outcomes were reported. */
  private readonly cleanups = new Set<Promise<void>>();
  /** Runtimes offered: those without a probe at once, the others once their hello world passed. */
  private offered: DiscoveredRuntime[];
  private counter = 0;

  constructor(
    private readonly options: LocalSandboxOptions,
    private readonly runsDir: string,
    private readonly setup: Setup,
  ) {
    this.offered = setup.runtimes.filter((runtime) => !runtime.definition.probe);
  }

  private get usable(): boolean {
    return this.setup.problem === null || this.options.allowUnsandboxed;
  }

  /** Offers a runtime that needs a probe once its hello world builds and runs within the default limits. */
  async probeRuntimes(limits: SandboxLimits): Promise<void> {
    if (!this.usable) return;
    for (const runtime of this.setup.runtimes) {
      const probe = runtime.definition.probe;
      if (!probe) continue;
      const started = Date.now();
      const outcome = await this.start({
        executionId: `probe-${runtime.language}`,
        language: runtime.language,
        version: runtime.version,
        script: probe.script,
        stdin: '',
        limits,
      }).outcome;
      if (
        outcome.reason === 'exited' &&
        outcome.exitCode === 0 &&
        outcome.stdout.text === probe.expectStdout
      ) {
        this.offered.push(runtime);
        this.options.log.info('sandbox runtime offered', {
          language: runtime.language,
          ms: Date.now() - started,
        });
      } else if (outcome.reason !== 'cancelled') {
        this.options.log.info('sandbox runtime not offered: hello world fails within the default limits', {
          language: runtime.language,
          version: runtime.version,
          reason: outcome.reason,
          exitCode: outcome.exitCode,
          message: outcome.message,
          usage: outcome.usage,
          stderr: outcome.stderr.text.slice(-500),
        });
      }
    }
  }

  async check(): Promise<SandboxStatus> {
    const { setup } = this;
    const features: string[] = [];
    if (setup.problem === null) {
      features.push(
        `bubblewrap ${setup.bwrapVersion}`,
        'namespaces: user, pid, ipc, uts, net (no network), cgroup, mount',
        'seccomp filter (x86_64, aarch64)',
        'read-only root, size-capped /tmp (tmpfs size)',
        setup.dropToUid === null ? 'sandbox uid 65534' : 'uid 65534 inside and outside (setpriv)',
      );
    } else if (this.options.allowUnsandboxed) {
      features.push('UNSANDBOXED: rlimits only, no isolation');
    }
    if (setup.cgroups) features.push(...setup.cgroups.features);
    else {
      features.push(
        'no writable cgroups: memory by RLIMIT_AS, processes by RLIMIT_NPROC',
        'CPU time and peak memory (largest process) from getrusage(RUSAGE_CHILDREN)',
      );
    }
    features.push('RLIMIT_CPU, RLIMIT_FSIZE, wall-time kill, head+tail output cap');
    features.push(`runtimes: ${this.offered.map((r) => `${r.language} ${r.version}`).join(', ') || 'none'}`);
    if (setup.problem === null) return { ready: true, features };
    // Unsandboxed runs still work when allowed; the problem stays visible either way.
    return { ready: this.options.allowUnsandboxed, problem: setup.problem, features };
  }

  runtimes(): RuntimeInfo[] {
    return this.offered.map(({ language, version, fileExt }) => ({ language, version, fileExt }));
  }

  start(spec: SandboxSpec, hooks: SandboxHooks = {}): SandboxRun {
    const podName = `local-${spec.executionId}`.slice(0, 63);
    const runtime = this.setup.runtimes.find(
      (r) => r.language === spec.language && r.version === spec.version,
    );
    let failure: string | null = null;
    if (!this.usable) failure = this.setup.problem;
    else if (!runtime) failure = `runtime ${spec.language} ${spec.version} is not available here`;
    if (failure !== null || !runtime) {
      const message = failure ?? 'no runtime';
      return { podName, outcome: Promise.resolve(neverRan(message)), cancel: async () => undefined };
    }
    if (this.setup.problem !== null) {
      this.options.log.warn('running a script WITHOUT sandbox (UNSAFE_ALLOW_UNSANDBOXED)', {
        executionId: spec.executionId,
      });
    }
    const runName = `run-${process.pid}-${++this.counter}-${randomBytes(4).toString('hex')}`;
    const execution = new LocalExecution(
      this.setup,
      this.options.log,
      join(this.runsDir, runName),
      runName,
      runtime,
    );
    const run: SandboxRun = {
      podName,
      outcome: execution.run(spec, hooks, podName).finally(() => {
        this.active.delete(run);
        this.cleanups.add(execution.cleanedUp);
        void execution.cleanedUp.finally(() => this.cleanups.delete(execution.cleanedUp));
      }),
      cancel: () => execution.cancel(),
    };
    this.active.add(run);
    return run;
  }

  async close(): Promise<void> {
    const runs = [...this.active];
    await Promise.all(runs.map((run) => run.cancel()));
    await Promise.all(runs.map((run) => run.outcome.catch(() => undefined)));
    await Promise.all(this.cleanups);
  }
}

function emptyOutput() {
  return { text: '', truncated: false, totalBytes: 0 };
}

function neverRan(message: string): SandboxOutcome {
  return {
    reason: 'sandbox_error',
    exitCode: -1,
    signal: null,
    message,
    stdout: emptyOutput(),
    stderr: emptyOutput(),
    usage: null,
    startedAt: null,
    finishedAt: new Date(),
  };
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, number]) => [number, name]));

/** Batches live output per stream: one callback per ~20 ms or 64 KiB, in order. */
class LiveBatcher {
  private pending = '';
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly emit: (chunk: string) => void) {}

  add(text: string): void {
    if (!text) return;
    const bytes = Buffer.byteLength(text);
    if (this.pendingBytes + bytes > LIVE_FLUSH_BYTES) this.flush();
    this.pending += text;
    this.pendingBytes += bytes;
    if (this.pendingBytes >= LIVE_FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), LIVE_FLUSH_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.pending) return;
    const chunk = this.pending;
    this.pending = '';
    this.pendingBytes = 0;
    this.emit(chunk);
  }
}

/** The parent's end of an extra pipe handed to the child at `fd`, if one was made. */
function readablePipe(child: ChildProcess, fd: number): NodeJS.ReadableStream | null {
  return ((child.stdio as unknown[])[fd] as NodeJS.ReadableStream | null | undefined) ?? null;
}

type Stop = 'cancelled' | 'wall_timeout' | 'cpu_timeout';

/** One run: from writing the script to removing the cgroups and run dir. */
class LocalExecution {
  private child: ChildProcess | null = null;
  private cgroup: RunCgroup | null = null;
  private stop: Stop | null = null;
  private finished = false;
  cleanedUp: Promise<void> = Promise.resolve();

  constructor(
    private readonly setup: Setup,
    private readonly log: Logger,
    private readonly runDir: string,
    private readonly runName: string,
    private readonly runtime: DiscoveredRuntime,
  ) {}

  async cancel(): Promise<void> {
    this.stop ??= 'cancelled';
    await this.killTree();
  }

  private async killTree(): Promise<void> {
    if (this.finished) return;
    const pid = this.child?.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    }
    await this.cgroup?.killAll();
  }

  /** Resolves with the outcome as soon as it is known; `cleanedUp` settles once the cgroups and files are gone. */
  async run(spec: SandboxSpec, hooks: SandboxHooks, podName: string): Promise<SandboxOutcome> {
    const fds: number[] = [];
    let outcome: SandboxOutcome;
    try {
      outcome = await this.execute(spec, hooks, podName, fds);
    } catch (error) {
      this.log.error('sandbox run failed', { error, executionId: spec.executionId });
      outcome = neverRan(`sandbox failed: ${(error as Error).message}`);
    }
    this.finished = true;
    for (const fd of fds) closeSync(fd);
    // Off the result's path: removing a cgroup waits for the kernel to finish tearing the processes down.
    this.cleanedUp = this.cleanup(spec.executionId);
    // A run we killed (cancel, time limit) is reported only once every process of it is gone.
    if (this.stop) await this.cleanedUp;
    return outcome;
  }

  private async cleanup(executionId: string): Promise<void> {
    try {
      if (this.cgroup) {
        await this.cgroup.killAll();
        await this.cgroup.remove();
      }
    } catch (error) {
      this.log.error('sandbox cgroup cleanup failed', { error, executionId, run: this.runName });
    }
    await rm(this.runDir, { recursive: true, force: true }).catch((error) =>
      this.log.error('sandbox run dir cleanup failed', { error, executionId, dir: this.runDir }),
    );
  }

  private async execute(
    spec: SandboxSpec,
    hooks: SandboxHooks,
    podName: string,
    fds: number[],
  ): Promise<SandboxOutcome> {
    const { limits } = spec;
    const sandboxed = this.setup.problem === null;
    const definition = this.runtime.definition;
    const scriptName = `main.${definition.fileExt}`;
    await mkdir(this.runDir, { mode: 0o700 });
    const scriptPath = join(this.runDir, scriptName);
    await writeFile(scriptPath, spec.script, { mode: 0o600 });

    if (this.setup.cgroups) {
      this.cgroup = await this.setup.cgroups.create(this.runName, {
        memoryBytes: limits.memoryBytes,
        maxProcesses: limits.maxProcesses + BWRAP_PROCESSES,
      });
    }
    const wrapper = wrapperScript({
      procsFiles: this.cgroup?.procsFiles ?? [],
      cpuSeconds: Math.max(1, Math.ceil(limits.cpuTimeMs / 1000)),
      fileSizeBytes: limits.tmpBytes,
      addressSpaceBytes: this.cgroup ? null : limits.memoryBytes,
    });

    const runtimeArgv = (scriptPath: string) => {
      const argv = definition.command(this.runtime.binary, scriptPath);
      if (this.cgroup?.limitsProcesses) return argv;
      // Outside a user namespace RLIMIT_NPROC would count all of this user's processes: not set there.
      const nproc = sandboxed ? limits.maxProcesses + BWRAP_PROCESSES : 0;
      return [PYTHON, '-c', RUSAGE_WRAPPER, sandboxed ? 'all' : 'main', String(nproc), ...argv];
    };
    let command: string[];
    let env: Record<string, string> = {};
    let cwd = this.runDir;
    if (sandboxed) {
      fds.push(openSync(this.setup.seccompFile, 'r'), openSync(scriptPath, 'r'));
      command = [
        ...(this.setup.dropToUid === null ? [] : dropPrivileges(this.setup.dropToUid)),
        this.setup.bwrap,
        ...bwrapArgs({
          binds: this.setup.binds,
          env: definition.env,
          argv: runtimeArgv(`${SCRIPT_DIR}/${scriptName}`),
          scriptName,
          tmpBytes: limits.tmpBytes,
        }),
      ];
    } else {
      // Unsandboxed opt-in: the runtime's environment only, in a scratch dir of its own.
      cwd = join(this.runDir, 'tmp');
      await mkdir(cwd);
      env = { ...definition.env, HOME: cwd, TMPDIR: cwd };
      command = runtimeArgv(scriptPath);
    }

    const stdout = new CappedStream(limits.outputBytesPerStream);
    const stderr = new CappedStream(limits.outputBytesPerStream);
    const liveOut = new LiveBatcher((chunk) => hooks.onOutput?.('stdout', chunk));
    const liveErr = new LiveBatcher((chunk) => hooks.onOutput?.('stderr', chunk));
    let startedAt: Date | null = null;
    let statusText = '';
    let childExit: number | null = null;

    // stdin, stdout, stderr, then bwrap's status pipe, the seccomp program, the script and the usage pipe.
    const stdio: ('pipe' | 'ignore' | number)[] = [
      'pipe',
      'pipe',
      'pipe',
      'ignore',
      'ignore',
      'ignore',
      'ignore',
    ];
    if (sandboxed) {
      stdio[FD_STATUS] = 'pipe';
      stdio[FD_SECCOMP] = fds[0]!;
      stdio[FD_SCRIPT] = fds[1]!;
    }
    if (!this.cgroup) stdio[FD_USAGE] = 'pipe';
    const began = process.hrtime.bigint();
    const child = spawn('/bin/sh', ['-c', wrapper, 'sandbox', ...command], {
      cwd,
      env,
      stdio,
      // Its own process group, so that an unsandboxed run can be killed as a group.
      detached: true,
    });
    this.child = child;
    if (this.stop) void this.killTree();
    const markStarted = () => {
      if (startedAt) return;
      startedAt = new Date();
      hooks.onStarted?.({ podName, startedAt });
    };
    if (!sandboxed) child.once('spawn', markStarted);
    // bwrap reports the script's pid once everything is set up, and its exit code at the end.
    readablePipe(child, FD_STATUS)?.on('data', (data: Buffer) => {
      statusText += data.toString();
      if (statusText.includes('"child-pid"')) markStarted();
      const exit = /"exit-code"\s*:\s*(\d+)/.exec(statusText);
      if (exit) childExit = Number(exit[1]);
    });
    let usageText = '';
    readablePipe(child, FD_USAGE)?.on('data', (data: Buffer) => {
      usageText += data.toString();
    });
    child.stdout!.on('data', (data: Buffer) => liveOut.add(stdout.push(data)));
    child.stderr!.on('data', (data: Buffer) => liveErr.add(stderr.push(data)));
    child.stdin!.on('error', () => undefined); // the script may exit without reading its stdin
    child.stdin!.end(spec.stdin);

    const wallTimer = setTimeout(() => {
      this.stop ??= 'wall_timeout';
      void this.killTree();
    }, limits.wallTimeoutMs);
    // RLIMIT_CPU is per process; the cgroup's total catches CPU spread over many processes.
    const cpuWatch = this.cgroup
      ? setInterval(async () => {
          const used = (await this.cgroup?.usage())?.cpuMs ?? 0;
          if (used > limits.cpuTimeMs + 1000 && !this.finished) {
            this.stop ??= 'cpu_timeout';
            void this.killTree();
          }
        }, CPU_POLL_MS)
      : null;

    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
      (resolve) => {
        child.once('error', (error) => resolve({ code: null, signal: null, error }));
        child.once('close', (code, signal) => resolve({ code, signal }));
      },
    );
    const wallMs = Number(process.hrtime.bigint() - began) / 1e6;
    clearTimeout(wallTimer);
    if (cpuWatch) clearInterval(cpuWatch);
    liveOut.flush();
    liveErr.flush();

    const usage = await this.measure(usageText);
    const finishedAt = new Date();
    const exitCode =
      childExit ?? exit.code ?? (exit.signal ? 128 + (osConstants.signals[exit.signal] ?? 0) : -1);
    const signalled =
      exitCode > 128 && exitCode < 128 + 65 ? (SIGNAL_NAMES.get(exitCode - 128) ?? null) : null;
    const base = {
      exitCode,
      signal: signalled,
      stdout: stdout.result(),
      stderr: stderr.result(),
      usage: { wallMs, cpuMs: usage.cpuMs ?? 0, peakMemoryBytes: usage.peakMemoryBytes ?? 0 },
      startedAt,
      finishedAt,
    };
    const cpuSeconds = Math.max(1, Math.ceil(limits.cpuTimeMs / 1000));
    // Only RLIMIT_CPU sends SIGXCPU; a SIGKILL counts as the CPU limit when the CPU time says so.
    const cpuLimitHit =
      exitCode === 128 + osConstants.signals.SIGXCPU ||
      (exitCode === 128 + osConstants.signals.SIGKILL &&
        (usage.cpuMs === null || usage.cpuMs >= cpuSeconds * 1000 * 0.9));

    if (this.stop === 'cancelled') return { ...base, reason: 'cancelled', message: 'cancelled' };
    if (exit.error)
      return { ...base, reason: 'sandbox_error', message: `cannot start: ${exit.error.message}` };
    if (this.stop === 'wall_timeout') {
      return {
        ...base,
        reason: 'wall_timeout',
        message: `wall time limit of ${limits.wallTimeoutMs} ms reached`,
      };
    }
    if (!startedAt) {
      const why = base.stderr.text.trim().split('\n').slice(-3).join(' ') || `exit code ${exitCode}`;
      return { ...base, reason: 'sandbox_error', message: `sandbox failed to start: ${why}` };
    }
    const cpuTimeout: SandboxOutcome = {
      ...base,
      reason: 'cpu_timeout',
      message: `CPU time limit of ${limits.cpuTimeMs} ms reached`,
    };
    if (this.stop === 'cpu_timeout') return cpuTimeout;
    if (usage.oomKills > 0) {
      return {
        ...base,
        reason: 'memory_limit',
        message: `memory limit of ${limits.memoryBytes} bytes reached`,
      };
    }
    if (cpuLimitHit) return cpuTimeout;
    if (usage.pidsLimitHits > 0) {
      return { ...base, reason: 'process_limit', message: `process limit of ${limits.maxProcesses} reached` };
    }
    return { ...base, reason: 'exited', message: null };
  }

  private async measure(usageText: string): Promise<CgroupUsage> {
    if (this.cgroup) return this.cgroup.usage();
    try {
      const parsed = JSON.parse(usageText) as { cpu: number; maxrss: number };
      return { cpuMs: parsed.cpu * 1000, peakMemoryBytes: parsed.maxrss, oomKills: 0, pidsLimitHits: 0 };
    } catch {
      return { cpuMs: null, peakMemoryBytes: null, oomKills: 0, pidsLimitHits: 0 };
    }
  }
}
