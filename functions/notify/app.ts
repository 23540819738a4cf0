/** notify: turns finished executions into in-app notifications for their owners. */
import { cloudEventSink, type SinkContext } from '../../shared/http/cloudevent-sink';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { notifyExecutionOwner, type TerminalEvent } from './handler';

export function createNotifyApp(platform: Platform) {
  const app = createFunctionApp(platform, 'notify');
  const notify = (event: TerminalEvent, context: SinkContext) =>
    notifyExecutionOwner(platform, event, context);
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
    }),
  );
  return app;
}
