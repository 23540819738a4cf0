/** The pod watch against a scripted API server: re-lists after 410 Gone, and a stop while it lists. */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../log';
import { type PodWatch, type PodWatchOptions, startPodWatch } from './executor-pod-watch';
import { SCRIPTED_NAMESPACE, type ScriptedApi, scriptedPod, scriptedPodApi } from './scripted-api';
import { waitFor } from './test-cluster';

describe('executor pod watch', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const start = (api: ScriptedApi, options: Partial<PodWatchOptions> = {}): PodWatch => {
    cleanups.push(() => api.close());
    const watch = startPodWatch({
      kubeConfig: api.config,
      namespace: SCRIPTED_NAMESPACE,
      labelSelector: 'app=executor',
      log: createLogger('silent'),
      resyncMs: 3600_000,
      onPod: async () => undefined,
      ...options,
    });
    cleanups.push(() => watch.stop());
    return watch;
  };

  it('reports every full list, re-lists after 410 Gone, and hands over a pod missing from the re-list as deleted', async () => {
    const api = await scriptedPodApi([scriptedPod('a'), scriptedPod('b')]);
    const lists: [string[], number][] = [];
    const changes: string[] = [];
    const watch = start(api, {
      onListed: (pods, listNumber) => lists.push([pods.map((pod) => pod.metadata!.name!), listNumber]),
      onPod: async ({ pod, deleted }) => {
        changes.push(`${pod.metadata!.name}${deleted ? ' deleted' : ''}`);
        return undefined;
      },
    });
    await watch.synced;
    api.pods = [scriptedPod('a')]; // b is deleted while the watch is away
    api.expire();
    await waitFor(() => api.watches() === 2, { what: 'the watch to be opened again' });
    await watch.idle();
    expect(lists).toEqual([
      [['a', 'b'], 1],
      [['a'], 2],
    ]);
    expect(watch.listsBegun()).toBe(2);
    expect(changes).toEqual(['a', 'b', 'b deleted']);
  });

  it('stopped while it lists, it leaves no watch open', async () => {
    const api = await scriptedPodApi([scriptedPod('a')]);
    const release = api.holdLists();
    const watch = start(api);
    await waitFor(() => watch.listsBegun() === 1, { what: 'the list to begin' });
    const stopped = watch.stop();
    release();
    await stopped;
    await waitFor(() => api.watches() === 1, { what: 'the informer to open its watch' });
    await waitFor(() => api.openWatches() === 0, { what: 'the watch to be closed', timeoutMs: 2000 });
  });
});
