/**
 * Tells each run when its executor pod has ended or is gone, from one pod watch per process
 * (executor-pod-watch.ts, as monitor's). A run registers after creating its pod; the watch may have seen
 * the pod before that (a pod can end at once), so the latest state of every executor pod is kept, and a
 * pod deleted recently is remembered by uid. A run whose pod is absent from a list that began after it
 * registered learns that its pod is gone (a pod created and deleted while the watch was away is never
 * handed over).
 */
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../log';
import { EXECUTOR_SELECTOR } from './contract';
import { type PodWatch, startPodWatch } from './executor-pod-watch';
import { hasEnded } from './pod-outcome';

export interface PodEnd {
  /** The pod's last state seen; null when it disappeared without one, or the watch was stopped. */
  pod: V1Pod | null;
  /** Deleted (or gone) rather than ended by itself. */
  deleted: boolean;
}

interface Waiter {
  /** Lists begun before the run registered, which may not contain its pod yet. */
  listsBefore: number;
  resolve(end: PodEnd): void;
}

/** Deleted pods are remembered this long, for runs that register after the deletion was seen. */
const TOMBSTONE_MS = 10 * 60_000;
/** The latest state is kept here, so a resync only refreshes it; seldom is enough. */
const RESYNC_MS = 10 * 60_000;
const STOPPED: PodEnd = { pod: null, deleted: false };

export class PodEndWatch {
  /** Latest state of each pod, by uid. */
  private readonly pods = new Map<string, V1Pod>();
  private readonly deleted = new Map<string, { pod: V1Pod; at: number }>();
  private readonly waiters = new Map<string, Waiter>();
  private watch: PodWatch | null = null;
  private stopped = false;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly namespace: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.stopped) return;
    this.watch ??= startPodWatch({
      kubeConfig: this.kubeConfig,
      namespace: this.namespace,
      labelSelector: EXECUTOR_SELECTOR,
      log: this.log,
      resyncMs: RESYNC_MS,
      onPod: async ({ pod, deleted }) => {
        if (deleted) this.remove(pod);
        else this.observe(pod);
        return undefined;
      },
      onListed: (pods, listNumber) => this.onListed(pods, listNumber),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.watch?.stop();
    for (const waiter of this.waiters.values()) waiter.resolve(STOPPED);
    this.waiters.clear();
  }

  /** Resolves once the pod with `uid` has ended or is gone. One waiter per pod. */
  waitForEnd(uid: string): Promise<PodEnd> {
    if (this.stopped) return Promise.resolve(STOPPED);
    const ended = new Promise<PodEnd>((resolve) => {
      this.waiters.set(uid, { listsBefore: this.watch?.listsBegun() ?? 0, resolve });
      const seen = this.pods.get(uid);
      if (seen && hasEnded(seen)) this.settle(uid, { pod: seen, deleted: false });
      const tombstone = this.deleted.get(uid);
      if (tombstone) this.settle(uid, goneEnd(tombstone.pod));
    });
    // After registering: a first list must count as later than the registration.
    this.start();
    return ended;
  }

  /** Stops waiting for the pod with `uid` (its run is settled some other way). */
  forget(uid: string): void {
    this.waiters.delete(uid);
  }

  private settle(uid: string, end: PodEnd): void {
    const waiter = this.waiters.get(uid);
    if (!waiter) return;
    this.waiters.delete(uid);
    waiter.resolve(end);
  }

  private observe(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    this.pods.set(uid, pod);
    if (hasEnded(pod)) this.settle(uid, { pod, deleted: false });
  }

  private remove(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    this.pods.delete(uid);
    const now = Date.now();
    this.deleted.set(uid, { pod, at: now });
    for (const [key, { at }] of this.deleted) if (now - at > TOMBSTONE_MS) this.deleted.delete(key);
    this.settle(uid, goneEnd(pod));
  }

  private onListed(items: V1Pod[], listNumber: number): void {
    const present = new Set(items.map((pod) => pod.metadata?.uid));
    // Gone; for a pod replaced by one of the same name the watch hands over no deletion, only an update.
    for (const [uid, pod] of this.pods) if (!present.has(uid)) this.remove(pod);
    for (const [uid, waiter] of this.waiters) {
      if (!present.has(uid) && waiter.listsBefore < listNumber)
        this.settle(uid, { pod: null, deleted: true });
    }
  }
}

/** A pod seen ended before it went ended by itself; otherwise it was deleted. */
const goneEnd = (pod: V1Pod): PodEnd => ({ pod, deleted: !hasEnded(pod) });
