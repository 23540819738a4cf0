/** Follows one execution: its SSE stream, or polling of the stored result when the stream cannot be opened. */
import { ApiError, describeError, request } from './api';
import { isFinalFrame } from './execution';
import { type ExecutionEvent, type ExecutionResult, isTerminalStatus } from './types';

const POLL_INTERVAL_MS = 1000;

export const fetchResult = (executionId: string): Promise<ExecutionResult> =>
  request<ExecutionResult>(`/executions/${encodeURIComponent(executionId)}/result`);

/** Calls `onEvent` for every frame until the result is known; returns a function that stops watching. */
export function watchExecution(
  executionId: string,
  onEvent: (event: ExecutionEvent) => void,
  /** Called once when watching has to stop early (the run is gone, or the session ended). */
  onFailure: (message: string) => void,
): () => void {
  let stopped = false;
  let pollTimer: number | undefined;
  const source = new EventSource(`/api/v1/events/executions/${encodeURIComponent(executionId)}`);

  const deliverStoredResult = async (): Promise<boolean> => {
    const result = await fetchResult(executionId);
    if (stopped) return true;
    if (isTerminalStatus(result.status)) {
      onEvent({ event_type: 'result_stored', execution_id: executionId, status: result.status, result });
      return true;
    }
    onEvent({ event_type: 'status', execution_id: executionId, status: result.status });
    return false;
  };

  const poll = async (): Promise<void> => {
    if (stopped) return;
    try {
      if (await deliverStoredResult()) return;
    } catch (err) {
      // Client errors will not go away by asking again; network and server errors might.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) {
        onFailure(describeError(err));
        return;
      }
    }
    if (!stopped) pollTimer = window.setTimeout(poll, POLL_INTERVAL_MS);
  };

  source.onmessage = (message: MessageEvent<string>) => {
    let event: ExecutionEvent;
    try {
      event = JSON.parse(message.data) as ExecutionEvent;
    } catch {
      return;
    }
    if (isFinalFrame(event)) source.close();
    onEvent(event);
    // The stream ended without a stored result: ask for it until it appears.
    if (event.event_type === 'result_failed' || (event.event_type === 'result_stored' && !event.result)) {
      void poll();
    }
  };
  source.onerror = () => {
    // CONNECTING means the browser is already resuming with Last-Event-ID; CLOSED means it gave up.
    if (source.readyState === EventSource.CLOSED && !stopped) void poll();
  };

  return () => {
    stopped = true;
    source.close();
    window.clearTimeout(pollTimer);
  };
}
