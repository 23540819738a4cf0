/**
 * One list-and-watch of the executor pods in the namespace, telling each run when its pod has ended
 * or is gone. A run registers after creating its pod; the watch may have seen the pod before that
 * (a pod can end at once), so the latest state of every executor pod is kept, and a pod deleted
 * recently is remembered by uid. After each (re)list, a run whose pod is absent from a list that began
 * after it registered learns that its pod is gone.
 */
import type { CoreV1Api, V1Pod, Watch } from '@kubernetes/client-node';
import type { Logger } from '../../log';
import { EXECUTOR_SELECTOR } from './contract';
import { hasEnded } from './pod-outcome';

export interface PodEnd {
  /** The pod's last state seen; null when it disappeared without one, or the watch was stopped. */
  pod: V1Pod | null;
  /** Deleted (or gone) rather than ended by itself. */
  deleted: boolean;
}

interface Waiter {
  uid: string;
  /** Lists started before the run registered, which may not contain its pod yet. */
  listsBefore: number;
  resolve(end: PodEnd): void;
}

/** Deleted pods are remembered this long, for runs that register after the deletion was seen. */
const TOMBSTONE_MS = 10 * 60_000;
const WATCH_SECONDS = 240;
const MAX_BACKOFF_MS = 5000;

export class PodEndWatch {
  private readonly pods = new Map<string, V1Pod>();
  private readonly deleted = new Map<string, { pod: V1Pod; at: number }>();
  private readonly waiters = new Map<string, Waiter>();
  private resourceVersion = '';
  private listsStarted = 0;
  private stopped = false;
  private running: Promise<void> | null = null;
  private abort: (() => void) | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly core: CoreV1Api,
    private readonly watcher: Watch,
    private readonly namespace: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.();
    this.wake?.();
    await this.running;
    for (const waiter of this.waiters.values()) waiter.resolve({ pod: null, deleted: false });
    this.waiters.clear();
  }

  /** Resolves once pod `name` with `uid` has ended or is gone. One waiter per pod name. */
  waitForEnd(name: string, uid: string): Promise<PodEnd> {
    if (this.stopped) return Promise.resolve({ pod: null, deleted: false });
    const ended = new Promise<PodEnd>((resolve) => {
      this.waiters.set(name, { uid, listsBefore: this.listsStarted, resolve });
      const seen = this.pods.get(name);
      if (seen) this.observe(seen);
      const tombstone = this.deleted.get(uid);
      if (tombstone) this.settle(name, { pod: tombstone.pod, deleted: !hasEnded(tombstone.pod) });
    });
    // After registering: a first list must count as later than the registration.
    this.start();
    return ended;
  }

  /** Stops waiting for pod `name` (its run is settled some other way). */
  forget(name: string): void {
    this.waiters.delete(name);
  }

  private settle(name: string, end: PodEnd): void {
    const waiter = this.waiters.get(name);
    if (!waiter) return;
    this.waiters.delete(name);
    waiter.resolve(end);
  }

  private observe(pod: V1Pod): void {
    const name = pod.metadata?.name ?? '';
    this.pods.set(name, pod);
    const waiter = this.waiters.get(name);
    if (!waiter) return;
    // Another pod of the same name: the one this run made is gone.
    if (pod.metadata?.uid !== waiter.uid) this.settle(name, { pod: null, deleted: true });
    else if (hasEnded(pod)) this.settle(name, { pod, deleted: false });
  }

  private remove(pod: V1Pod): void {
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    if (this.pods.get(name)?.metadata?.uid === uid) this.pods.delete(name);
    const now = Date.now();
    this.deleted.set(uid, { pod, at: now });
    for (const [key, { at }] of this.deleted) if (now - at > TOMBSTONE_MS) this.deleted.delete(key);
    if (this.waiters.get(name)?.uid === uid) this.settle(name, { pod, deleted: !hasEnded(pod) });
  }

  private async relist(): Promise<void> {
    const listNumber = ++this.listsStarted;
    const list = await this.core.listNamespacedPod({
      namespace: this.namespace,
      labelSelector: EXECUTOR_SELECTOR,
    });
    const present = new Map(list.items.map((pod) => [pod.metadata?.name ?? '', pod]));
    for (const [name, pod] of this.pods) if (!present.has(name)) this.remove(pod);
    for (const pod of list.items) this.observe(pod);
    for (const [name, waiter] of this.waiters) {
      if (!present.has(name) && waiter.listsBefore < listNumber)
        this.settle(name, { pod: null, deleted: true });
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
  }

  /** Resolves when the server ends the watch; rejects on a connection failure. */
  private watchOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      const path = `/api/v1/namespaces/${this.namespace}/pods`;
      const query = {
        labelSelector: EXECUTOR_SELECTOR,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: WATCH_SECONDS,
      };
      const onEvent = (type: string, object: V1Pod & { code?: number }) => {
        if (type === 'ERROR') {
          // 410 Gone: our resource version is too old; list again.
          if (object.code === 410) this.resourceVersion = '';
          return;
        }
        this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
        if (type === 'DELETED') this.remove(object);
        else if (type === 'ADDED' || type === 'MODIFIED') this.observe(object);
      };
      this.watcher
        .watch(path, query, onEvent, (error) => (error ? reject(error) : resolve()))
        .then((controller) => {
          this.abort = () => controller.abort();
          if (this.stopped) controller.abort();
        }, reject);
    });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) await this.relist();
        if (this.stopped) return;
        await this.watchOnce();
        failures = 0;
      } catch (error) {
        if (this.stopped) return;
        failures++;
        this.resourceVersion = '';
        this.log.warn('executor pod watch failed; listing again', { error, failures });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }
}
