/** notify: turns finished executions into in-app notifications for their owners. */
import { TERMINAL_EXECUTION_EVENTS } from '../../shared/events/schemas';
import { cloudEventSink, type SinkContext } from '../../shared/http/cloudevent-sink';
import { createFunctionApp, type FunctionDefinition } from '../../shared/platform/function';
import { notifyExecutionOwner, type TerminalEvent } from './handler';

export const notifyFunction: FunctionDefinition = {
  name: 'notify',
  routes: [],
  triggers: TERMINAL_EXECUTION_EVENTS,
  createApp(platform) {
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
  },
};
