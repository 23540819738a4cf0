/**
 * store-result: the execution record's single writer after submit. Moves the status along the
 * lifecycle, stores the terminal result exactly once, then publishes `result_stored`.
 */
import type { EventOf } from '../../shared/events/schemas';
import { cloudEventSink } from '../../shared/http/cloudevent-sink';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { type LifecycleEvent, transitionFor } from './projection';

export function createStoreResultApp(platform: Platform) {
  const app = createFunctionApp(platform, 'store-result');
  const log = platform.log.child({ function: 'store-result' });

  async function apply(event: LifecycleEvent): Promise<void> {
    const transition = transitionFor(event, platform.now().toISOString());
    const { executions } = platform.store;
    const updated = await executions.transition(event.execution_id, transition.from, transition.patch);
    if (!transition.terminal) return;
    const record = updated ?? (await executions.get(event.execution_id));
    if (!record) {
      log.warn('terminal event for a deleted execution', { execution_id: event.execution_id });
      return;
    }
    // Another terminal event got there first: that one's result stands.
    if (!updated && record.status !== transition.patch.status) return;
    // Derived id: a redelivery after a crash republishes the same `result_stored`.
    const stored = platform.events.create<EventOf<'result_stored'>>(
      {
        event_type: 'result_stored',
        execution_id: record.execution_id,
        storage_type: 'database',
        storage_path: record.execution_id,
        size_bytes: Buffer.byteLength(record.stdout ?? '') + Buffer.byteLength(record.stderr ?? ''),
      },
      { userId: record.user_id, traceparent: event.metadata.traceparent, causedBy: event.event_id },
    );
    await platform.events.publish(stored);
  }

  app.post(
    '/',
    cloudEventSink({
      name: 'store-result',
      kv: platform.kv,
      log,
      handlers: {
        pod_created: apply,
        execution_started: apply,
        execution_completed: apply,
        execution_failed: apply,
        execution_timeout: apply,
        execution_cancelled: apply,
      },
    }),
  );
  return app;
}
