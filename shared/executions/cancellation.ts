/** Asking for an execution to stop: run-pod kills its sandbox, store-result records `cancelled`. */
import type { ExecutionRecord } from '../domain/execution';
import type { EventOf } from '../events/schemas';
import type { Platform } from '../platform/platform';

export async function requestCancellation(
  platform: Platform,
  execution: ExecutionRecord,
  cancelledBy: string,
  reason: string,
): Promise<EventOf<'execution_cancelled'>> {
  const event = platform.events.create<EventOf<'execution_cancelled'>>(
    {
      event_type: 'execution_cancelled',
      execution_id: execution.execution_id,
      cancelled_by: cancelledBy,
      reason,
      force_terminated: execution.status !== 'queued',
    },
    { userId: execution.user_id },
  );
  await platform.events.publish(event);
  return event;
}
