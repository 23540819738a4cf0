/**
 * KafkaSource's delivery rules, shared by every bus adapter so they cannot drift apart.
 * Knative data plane: retry iff the status is ≥ 500 or one of 404, 408, 409, 429, or the request
 * failed or timed out; any other status ≥ 300 goes straight to the dead-letter sink.
 */
import type { DeliveryPolicy } from './port';

export type DeliveryOutcome = 'ack' | 'retry' | 'dead-letter';

const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([404, 408, 409, 429]);

export function classifyDelivery(result: { status: number } | { error: Error }): DeliveryOutcome {
  if ('error' in result) return 'retry';
  const { status } = result;
  if (status >= 200 && status < 300) return 'ack';
  if (status >= 500 || RETRYABLE_STATUSES.has(status)) return 'retry';
  return 'dead-letter';
}

/** The wait after failed attempt number `attempt` (0 = the first delivery) before the next one. */
export function backoffMs(policy: DeliveryPolicy, attempt: number): number {
  return policy.backoffPolicy === 'exponential'
    ? policy.backoffDelayMs * 2 ** attempt
    : policy.backoffDelayMs * (attempt + 1);
}
