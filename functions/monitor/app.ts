/** monitor: classifies each ended sandbox and publishes exactly one terminal execution event for it. */

import type { DomainEvent } from '../../shared/events/schemas';
import { cloudEventSink } from '../../shared/http/cloudevent-sink';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { classifyTermination } from './classify';

export function createMonitorApp(platform: Platform) {
  const app = createFunctionApp(platform, 'monitor');
  app.post(
    '/',
    cloudEventSink({
      name: 'monitor',
      kv: platform.kv,
      log: platform.log.child({ function: 'monitor' }),
      handlers: {
        pod_terminated: async (pod) => {
          const outcome = classifyTermination(pod);
          if (!outcome) return;
          // The id derives from the pod event, so a redelivery republishes the same event, never a second one.
          const event = platform.events.create<DomainEvent>(outcome as never, {
            userId: pod.metadata.user_id,
            traceparent: pod.metadata.traceparent,
            causedBy: pod.event_id,
          });
          await platform.events.publish(event);
        },
      },
    }),
  );
  return app;
}
