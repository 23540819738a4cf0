/**
 * notify: turns finished executions into notifications for their owners — in-app, and deliveries to
 * their webhook and Slack subscriptions, which it also sends (deliveries.ts). Knative's PingSource
 * (`dev.knative.sources.ping`) wakes it to send deliveries that fell due while it was scaled to zero.
 */
import { cloudEventSink, type SinkContext } from '../../shared/http/cloudevent-sink';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { type DeliveryRunner, deliveryRunnerFor } from './deliveries';
import { notifyExecutionOwner, type TerminalEvent } from './handler';

/** Knative's PingSource: time to send the deliveries that are due. */
export const PING_EVENT_TYPE = 'dev.knative.sources.ping';

export interface NotifyAppOptions {
  /** Sends the deliveries; by default the process's own runner (null: deliveries are only stored). */
  runner?: DeliveryRunner | null;
}

export function createNotifyApp(platform: Platform, options: NotifyAppOptions = {}) {
  const app = createFunctionApp(platform, 'notify');
  const runner = options.runner === undefined ? deliveryRunnerFor(platform) : options.runner;
  const notify = (event: TerminalEvent, context: SinkContext) =>
    notifyExecutionOwner(platform, event, context, { onDeliveries: () => void runner?.kick() });
  app.post(
    '/',
    cloudEventSink({
      name: 'notify',
      kv: platform.kv,
      log: platform.log.child({ function: 'notify' }),
      handlers: {
        execution_completed: notify,
        execution_failed: notify,
        execution_timeout: notify,
        execution_cancelled: notify,
      },
      externalHandlers: {
        // Answered once the due deliveries were worked through, so the ping's request keeps the pod up.
        [PING_EVENT_TYPE]: async () => void (await runner?.kick()),
      },
    }),
  );
  return app;
}
