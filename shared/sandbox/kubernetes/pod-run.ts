/**
 * What the Kubernetes backend adds to the sandbox port, for run-pod. Types and guards only, so run-pod
 * does not load the Kubernetes client unless this backend is configured.
 *
 * In this backend monitor reports a run from its pod (started, ended, output); run-pod reports only
 * runs that never got a pod. A run's `outcome` resolves when its pod has ended or is gone, which is
 * when run-pod frees the run's concurrency slot.
 */
import type { Sandbox, SandboxHooks, SandboxOutcome, SandboxRun, SandboxSpec } from '../port';
import type { PodOwner, PodResources } from './pod-spec';

export interface PodSandboxSpec extends SandboxSpec {
  /** The pod's requests and limits (from `execution_requested`) and whom it runs for. */
  pod?: { resources?: Partial<PodResources>; owner?: PodOwner };
}

export interface CreatedPod {
  namespace: string;
  podName: string;
  uid: string;
}

export interface PodRun extends SandboxRun {
  /**
   * The pod once it and its ConfigMap exist; null when they could not be made (the outcome then says
   * why, with reason `sandbox_error`) or the run was cancelled first (reason `cancelled`).
   */
  readonly created: Promise<CreatedPod | null>;
}

export interface PodHooks extends SandboxHooks {
  /**
   * A pod was made but the rest of the run could not be (its ConfigMap): called, and awaited, before
   * the backend deletes the pod again, so the run's ending is published before monitor sees a pod
   * deleted before it ended (contract.ts). The run then ends with `created` null and this outcome.
   */
  beforeCompensation?(pod: CreatedPod, outcome: SandboxOutcome): Promise<void>;
}

export interface PodSandbox extends Sandbox {
  readonly backend: 'kubernetes';
  readonly namespace: string;
  start(spec: PodSandboxSpec, hooks?: PodHooks): PodRun;
  /**
   * A run for the execution's pod made earlier (before a restart): `created` is the pod, or null when
   * there is none; `outcome` resolves when it ends or is gone, as for a run started here.
   */
  follow(executionId: string): PodRun;
  /** Deletes the execution's pod at once, whoever started it (another replica, a process before a restart). */
  deletePod(executionId: string): Promise<void>;
}

export const isPodSandbox = (sandbox: Sandbox): sandbox is PodSandbox =>
  sandbox.backend === 'kubernetes' && 'deletePod' in sandbox;

export const isPodRun = (run: SandboxRun): run is PodRun => 'created' in run;
