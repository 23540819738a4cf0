/**
 * The sandbox port: where a script actually runs. The local backend uses bubblewrap and cgroups on
 * this machine; the Kubernetes backend runs one hardened pod per execution.
 */
import type { SandboxEndReason } from '../events/schemas';

export interface RuntimeInfo {
  language: string;
  version: string;
  /** File extension of the script, without the dot. */
  fileExt: string;
}

export interface SandboxLimits {
  wallTimeoutMs: number;
  cpuTimeMs: number;
  memoryBytes: number;
  maxProcesses: number;
  tmpBytes: number;
  /** Bytes kept per stream (head and tail); the rest is counted and dropped. */
  outputBytesPerStream: number;
}

export interface SandboxSpec {
  executionId: string;
  language: string;
  version: string;
  script: string;
  stdin: string;
  limits: SandboxLimits;
}

export interface CappedOutput {
  text: string;
  truncated: boolean;
  /** Bytes the script wrote, kept or not. */
  totalBytes: number;
}

export interface SandboxOutcome {
  reason: SandboxEndReason;
  /** Process exit code; 128 + signal number when killed by a signal; -1 when it never ran. */
  exitCode: number;
  signal: string | null;
  message: string | null;
  stdout: CappedOutput;
  stderr: CappedOutput;
  usage: {
    wallMs: number;
    /** Exact CPU time of every process of the run (user + system). */
    cpuMs: number;
    /** Peak memory of the whole run. */
    peakMemoryBytes: number;
  } | null;
  startedAt: Date | null;
  finishedAt: Date;
}

export interface SandboxHooks {
  /** The process exists and is about to exec the script (maps to `execution_started`). */
  onStarted?(info: { podName: string; startedAt: Date }): void;
  /** Live output, in order per stream; chunks are batched, never larger than 64 KiB. */
  onOutput?(stream: 'stdout' | 'stderr', chunk: string): void;
}

export interface SandboxRun {
  /** A name for the run, reported as `pod_name`. */
  readonly podName: string;
  readonly outcome: Promise<SandboxOutcome>;
  /** Kills the whole process tree; the outcome then resolves with reason `cancelled`. */
  cancel(): Promise<void>;
}

export interface SandboxStatus {
  ready: boolean;
  /** Why not, and how to fix it, when not ready. */
  problem?: string;
  /** What the backend can enforce and measure here, for the startup log and `k8s-limits`. */
  features: string[];
}

export interface Sandbox {
  readonly backend: 'local' | 'kubernetes';
  check(): Promise<SandboxStatus>;
  runtimes(): RuntimeInfo[];
  start(spec: SandboxSpec, hooks?: SandboxHooks): SandboxRun;
  /** Kills every run still going (shutdown). */
  close(): Promise<void>;
}
