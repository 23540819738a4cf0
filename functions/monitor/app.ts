/**
 * monitor: classifies each ended sandbox and publishes exactly one terminal execution event for it. The
 * local sandbox reports its runs as `pod_terminated`; executor pods of the Kubernetes backend arrive as
 * ApiServerSource CloudEvents (Knative) or through this process's own pod watch (stack and embedded).
 */

import { cloudEventSink, type ExternalHandlers } from '../../shared/http/cloudevent-sink';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import type { KubernetesMonitor } from './kubernetes';
import { publishOutcome } from './outcome';

/** ApiServerSource in `Resource` mode: the data of each event is the whole Pod. */
export const POD_EVENT_TYPES = {
  add: 'dev.knative.apiserver.resource.add',
  update: 'dev.knative.apiserver.resource.update',
  delete: 'dev.knative.apiserver.resource.delete',
} as const;
/** Knative's PingSource: time to look at every executor pod again and sweep. */
export const PING_EVENT_TYPE = 'dev.knative.sources.ping';

export interface MonitorAppOptions {
  /** The Kubernetes side; by default started from the configuration when SANDBOX_BACKEND=kubernetes. */
  kubernetes?: KubernetesMonitor | null;
}

export function createMonitorApp(platform: Platform, options: MonitorAppOptions = {}) {
  const app = createFunctionApp(platform, 'monitor');
  const log = platform.log.child({ function: 'monitor' });
  const kubernetes = kubernetesSide(platform, options);
  const externalHandlers: ExternalHandlers = {};
  if (kubernetes) {
    kubernetes.catch((error) => log.error('the Kubernetes side could not start', { error }));
    const report = async (data: unknown, deleted = false) => {
      await (await kubernetes).reporter.report(data, { deleted });
    };
    externalHandlers[POD_EVENT_TYPES.add] = ({ data }) => report(data);
    externalHandlers[POD_EVENT_TYPES.update] = ({ data }) => report(data);
    externalHandlers[POD_EVENT_TYPES.delete] = ({ data }) => report(data, true);
    externalHandlers[PING_EVENT_TYPE] = async () => void (await (await kubernetes).resync());
  }
  app.post(
    '/',
    cloudEventSink({
      name: 'monitor',
      kv: platform.kv,
      log,
      handlers: {
        pod_terminated: (pod) => publishOutcome(platform, pod),
      },
      externalHandlers,
    }),
  );
  return app;
}

/**
 * The Kubernetes side, loaded only with that backend: the Kubernetes client is large, and a process of
 * the local backend starts faster without it. Its settings are part of the configuration.
 */
function kubernetesSide(platform: Platform, options: MonitorAppOptions): Promise<KubernetesMonitor> | null {
  if (options.kubernetes !== undefined)
    return options.kubernetes ? Promise.resolve(options.kubernetes) : null;
  if (platform.config.SANDBOX_BACKEND !== 'kubernetes') return null;
  return import('./kubernetes').then(({ startKubernetesMonitor }) =>
    startKubernetesMonitor(platform, { settings: platform.config }),
  );
}
