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

/** What one attempt came to: the sink's status (and body when it failed), or the error. */
export type AttemptResult = { status: number; body: string } | { error: Error };

const ERROR_BODY_CHARS = 500;

export class DeliveryTimeout extends Error {
  constructor() {
    super('delivery timed out');
    this.name = 'DeliveryTimeout';
  }
}

/**
 * One POST to a sink, cut off by the per-attempt timeout or when `stop` aborts (the bus or dispatcher
 * shutting down). Cutting off aborts `abort`, the signal the request was made with.
 */
export async function attemptDelivery(
  deliver: (request: Request) => Promise<Response>,
  request: Request,
  abort: AbortController,
  timeoutMs: number,
  stop: { signal: AbortSignal; reason: string },
): Promise<AttemptResult> {
  let timer: NodeJS.Timeout | undefined;
  let onStop = () => {};
  try {
    const exchange = deliver(request).then(async (response) => {
      if (response.ok) {
        await response.body?.cancel();
        return { status: response.status, body: '' };
      }
      return { status: response.status, body: await response.text() };
    });
    // A sink that fails after its cutoff was already counted; its late rejection is of no interest.
    exchange.catch(() => {});
    const cutoff = new Promise<never>((_, reject) => {
      const cut = (reason: Error) => {
        abort.abort(reason);
        reject(reason);
      };
      timer = setTimeout(() => cut(new DeliveryTimeout()), timeoutMs);
      onStop = () => cut(new Error(stop.reason));
      stop.signal.addEventListener('abort', onStop, { once: true });
      if (stop.signal.aborted) onStop();
    });
    return await Promise.race([exchange, cutoff]);
  } catch (error) {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  } finally {
    clearTimeout(timer);
    stop.signal.removeEventListener('abort', onStop);
  }
}

/** The dead letter's error text: what the sink said, or why there was no answer. */
export function describeFailure(result: AttemptResult, subscriber: string, timeoutMs: number): string {
  if ('error' in result) {
    return result.error instanceof DeliveryTimeout
      ? `no answer from ${subscriber} within ${timeoutMs} ms`
      : `request to ${subscriber} failed: ${result.error.message}`;
  }
  const body = result.body.slice(0, ERROR_BODY_CHARS);
  return body
    ? `HTTP ${result.status} from ${subscriber}: ${body}`
    : `HTTP ${result.status} from ${subscriber}`;
}
