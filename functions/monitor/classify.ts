/**
 * Turns what the sandbox reports into the execution's outcome. Pure: the same report always gives
 * the same event fields, which is what makes monitor safe to run twice.
 */

import type { EventFields } from '../../shared/events/publisher';
import type { EventOf } from '../../shared/events/schemas';

type Terminated = EventOf<'pod_terminated'>;
export type Outcome =
  | EventFields<EventOf<'execution_completed'>>
  | EventFields<EventOf<'execution_failed'>>
  | EventFields<EventOf<'execution_timeout'>>;

/** Returns null for a cancelled run: the cancellation itself is the execution's terminal event. */
export function classifyTermination(pod: Terminated): Outcome | null {
  const common = {
    execution_id: pod.execution_id,
    finished_at: pod.finished_at,
    stdout: pod.stdout,
    stderr: pod.stderr,
    stdout_truncated: pod.stdout_truncated,
    stderr_truncated: pod.stderr_truncated,
    stdout_bytes: pod.stdout_bytes,
    stderr_bytes: pod.stderr_bytes,
    resource_usage: pod.resource_usage,
  };
  const failed = (error_type: EventOf<'execution_failed'>['error_type'], error_message: string): Outcome => ({
    ...common,
    event_type: 'execution_failed',
    exit_code: pod.exit_code,
    error_type,
    error_message,
  });

  switch (pod.reason) {
    case 'cancelled':
      return null;
    case 'wall_timeout':
      return { ...common, event_type: 'execution_timeout', timeout_seconds: pod.timeout_seconds };
    case 'cpu_timeout':
      return failed('timeout', pod.message ?? 'CPU time limit exceeded');
    case 'memory_limit':
      return failed('resource_limit', pod.message ?? 'Memory limit exceeded; the script was killed');
    case 'sandbox_error':
      return failed('system_error', pod.message ?? 'The sandbox could not run the script');
    case 'process_limit':
      if (pod.exit_code === 0) return { ...common, event_type: 'execution_completed', exit_code: 0 };
      return failed('resource_limit', pod.message ?? 'Process limit reached');
    case 'exited':
      if (pod.exit_code === 0) return { ...common, event_type: 'execution_completed', exit_code: 0 };
      return failed(
        'script_error',
        pod.signal ? `Script killed by ${pod.signal}` : `Script exited with code ${pod.exit_code}`,
      );
  }
}
