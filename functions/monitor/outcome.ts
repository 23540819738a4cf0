/** The terminal execution event of an ended sandbox: the one step every way a sandbox's end arrives shares. */
import type { DomainEvent, EventOf } from '../../shared/events/schemas';
import type { Platform } from '../../shared/platform/platform';
import { classifyTermination } from './classify';

/**
 * Publishes the outcome of `pod`; nothing for a cancelled run. The id derives from the `pod_terminated`
 * event, so however often this runs for one ended sandbox, the store keeps one terminal event.
 */
export async function publishOutcome(platform: Platform, pod: EventOf<'pod_terminated'>): Promise<void> {
  const outcome = classifyTermination(pod);
  if (!outcome) return;
  const event = platform.events.create<DomainEvent>(outcome as never, {
    userId: pod.metadata.user_id,
    traceparent: pod.metadata.traceparent,
    causedBy: pod.event_id,
  });
  await platform.events.publish(event);
}
