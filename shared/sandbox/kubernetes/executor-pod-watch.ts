/**
 * Follows the executor pods of one namespace: list, then watch from the list's resourceVersion (the
 * client's ListWatch re-lists on 410 Gone and re-watches when the server ends a watch), restarted with
 * backoff after any other failure, and every pod handed to the handler again at each resync. Each pod is
 * handled in order, one change at a time; a failed handling is retried with backoff, so a delete event
 * (which no re-list can bring back) is not lost to a brief outage. A pod missing from a re-list is handed
 * over as deleted; a pod created and deleted unseen (during an outage that ended in a re-list) never is, so
 * each full list is also reported as a whole.
 */
import { CoreV1Api, type KubeConfig, ListWatch, type V1Pod, Watch } from '@kubernetes/client-node';
import type { Logger } from '../../log';
import { apiErrorMessage } from './executor-cluster';
import { LatestPerKey } from './latest-per-key';

export interface PodChange {
  /** The pod as the API gave it: JSON from the watch, a typed object from the list. */
  pod: V1Pod;
  /** Gone from the API: a delete event, or missing from a re-list. */
  deleted: boolean;
}

export interface PodWatchOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  labelSelector: string;
  /** Handles one pod's newest state; may ask to see the pod again at a time (a grace that runs out). */
  onPod(change: PodChange): Promise<{ recheckAt: Date | null } | undefined>;
  log: Logger;
  /** Every pod is handed over again this often, whether it changed or not. */
  resyncMs: number;
  /** Pods handled at once. */
  concurrency?: number;
  /** Each full list (the first and every re-list), before its changes are handed over; `listNumber` as `listsBegun()` counts. */
  onListed?(pods: V1Pod[], listNumber: number): void;
}

export interface PodWatch {
  /** Resolves once a first list has been handed over and the watch is open (after retries, if need be). */
  readonly synced: Promise<void>;
  /** Pod changes waiting or being handled. */
  pending(): number;
  /** Full lists begun so far: a list reported with a higher number began after this was read. */
  listsBegun(): number;
  /** Resolves once every change seen so far has been handled. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;
/** A pod change still failing after this many tries (about five minutes) is given up; a resync brings back the pod if it is still there. */
const MAX_ATTEMPTS = 14;
const backoff = (attempt: number) => Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt);

export function startPodWatch(options: PodWatchOptions): PodWatch {
  const { namespace, labelSelector, log } = options;
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  let listed = false;
  let listsBegun = 0;
  let markSynced = () => {};
  const synced = new Promise<void>((resolve) => {
    markSynced = resolve;
  });
  const informer = new ListWatch<V1Pod>(
    `/api/v1/namespaces/${namespace}/pods`,
    new Watch(options.kubeConfig),
    async () => {
      const listNumber = ++listsBegun;
      const list = await core.listNamespacedPod({ namespace, labelSelector });
      listed = true;
      options.onListed?.(list.items, listNumber);
      return list;
    },
    false,
    labelSelector,
  );
  let stopped = false;
  const start = () =>
    informer.start().then(async () => {
      // The informer opens its watch even if stopped while it listed: close that watch again.
      if (stopped) await informer.stop();
      else if (listed) markSynced();
    });
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, run: () => void) => {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) run();
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  const failures = new Map<string, number>();
  const queue = new LatestPerKey<PodChange>(options.concurrency ?? 16, async (uid, change) => {
    try {
      const answer = await options.onPod(change);
      failures.delete(uid);
      const recheckAt = answer?.recheckAt;
      if (recheckAt && !change.deleted) {
        later(Math.max(0, recheckAt.getTime() - Date.now()), () => {
          const current = informer.get(change.pod.metadata?.name ?? '', namespace);
          if (current?.metadata?.uid === uid) queue.push(uid, { pod: current, deleted: false });
        });
      }
    } catch (error) {
      const attempt = (failures.get(uid) ?? 0) + 1;
      const fields = { pod: change.pod.metadata?.name, attempt, error: apiErrorMessage(error) };
      if (attempt >= MAX_ATTEMPTS) {
        failures.delete(uid);
        log.error('handling a pod change kept failing; given up', fields);
        return;
      }
      failures.set(uid, attempt);
      log.warn('handling a pod change failed; it will be retried', fields);
      // Unless a newer change of the pod was handled (or failed) meanwhile: the newest state wins.
      later(backoff(attempt), () => {
        if (failures.get(uid) === attempt) queue.push(uid, change);
      });
    }
  });
  const hand = (pod: V1Pod, deleted: boolean) => {
    const uid = pod.metadata?.uid;
    if (uid) queue.push(uid, { pod, deleted });
  };

  let restarts = 0;
  informer.on('add', (pod) => {
    restarts = 0;
    hand(pod, false);
  });
  informer.on('update', (pod) => {
    restarts = 0;
    hand(pod, false);
  });
  informer.on('delete', (pod) => hand(pod, true));
  informer.on('error', (error) => {
    if (stopped) return;
    restarts++;
    log.warn('pod watch failed; restarting', { error: apiErrorMessage(error), attempt: restarts });
    later(backoff(restarts), () => void start());
  });

  const resync = setInterval(() => {
    for (const pod of informer.list(namespace)) hand(pod, false);
  }, options.resyncMs);
  resync.unref();

  return {
    synced: start().then(() => synced),
    pending: () => queue.size,
    listsBegun: () => listsBegun,
    idle: () => queue.idle(),
    async stop() {
      stopped = true;
      clearInterval(resync);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await informer.stop();
    },
  };
}
