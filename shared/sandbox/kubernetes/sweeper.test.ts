import type { V1ObjectMeta } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../log';
import { ANNOTATIONS, EXECUTION_ID_LABEL } from './contract';
import type { ExecutorPod } from './executor-pod';
import { sweepExecutorObjects } from './sweeper';

const NOW = new Date('2026-01-01T01:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

const pod = (
  name: string,
  options: { created: number; started?: number; deadline?: number; deleting?: boolean },
) => ({
  metadata: {
    name,
    namespace: 'ns',
    uid: `uid-${name}`,
    labels: { [EXECUTION_ID_LABEL]: name },
    creationTimestamp: ago(options.created),
    ...(options.deleting ? { deletionTimestamp: ago(0) } : {}),
  },
  spec: { activeDeadlineSeconds: options.deadline ?? 35 },
  status:
    options.started === undefined
      ? { phase: 'Pending' }
      : { phase: 'Running', startTime: ago(options.started) },
});
const configMap = (name: string, ageSeconds: number, extra: Partial<V1ObjectMeta> = {}): V1ObjectMeta => ({
  name,
  uid: `uid-${name}`,
  creationTimestamp: new Date(ago(ageSeconds)),
  annotations: { [ANNOTATIONS.timeoutSeconds]: '5' },
  ...extra,
});

describe('sweepExecutorObjects', () => {
  it('ends and removes pods past deadline plus grace, and ConfigMaps no pod owns past theirs', async () => {
    const ended: [string, string][] = [];
    const deletedMaps: string[] = [];
    const result = await sweepExecutorObjects({
      cluster: {
        listPods: async () => [
          pod('over', { created: 200, started: 150 }), // 150 s > 35 + 60
          pod('slow-start', { created: 200, started: 90 }), // counted from its start: 90 s < 95
          pod('never-started', { created: 100 }), // from creation: 100 s > 95
          pod('long', { created: 200, started: 150, deadline: 3600 }),
          pod('going', { created: 200, started: 150, deleting: true }),
        ],
        listConfigMaps: async () => [
          configMap('orphan', 100), // 100 > 5 + 60
          configMap('young-orphan', 30),
          configMap('owned', 1000, {
            ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u' }],
          }),
          configMap('unannotated', 1000, { annotations: {} }), // falls back to 3600 s: kept
        ],
        deleteConfigMap: async (name) => void deletedMaps.push(name),
      },
      now: NOW,
      graceMs: 60_000,
      fallbackDeadlineSeconds: 3600,
      endPod: async (p: ExecutorPod, why: string) => void ended.push([p.metadata.name, why]),
      log: createLogger('silent'),
    });
    expect(result).toEqual({
      pods: ['over', 'never-started'],
      configMaps: ['orphan'],
      remaining: ['slow-start', 'long', 'going'],
    });
    expect(ended[0]).toEqual([
      'over',
      'The pod was still there 115 s after its 35 s deadline and was removed',
    ]);
    expect(deletedMaps).toEqual(['orphan']);
  });

  it('a pod that cannot be ended now is left for the next sweep', async () => {
    const result = await sweepExecutorObjects({
      cluster: {
        listPods: async () => [pod('over', { created: 200, started: 150 })],
        listConfigMaps: async () => [],
        deleteConfigMap: async () => {},
      },
      now: NOW,
      graceMs: 60_000,
      fallbackDeadlineSeconds: 3600,
      endPod: async () => {
        throw new Error('store down');
      },
      log: createLogger('silent'),
    });
    expect(result).toMatchObject({ pods: [], remaining: ['over'] });
  });
});
