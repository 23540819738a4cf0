/**
 * How each lifecycle event moves an execution record: which statuses it may leave and what it
 * writes. Terminal statuses are only entered from non-terminal ones, so the first terminal event
 * wins and later ones change nothing.
 */
import type { ExecutionRecord, ExecutionStatus } from '../../shared/domain/execution';
import type { EventOf } from '../../shared/events/schemas';

export type LifecycleEvent = EventOf<
  | 'pod_created'
  | 'execution_started'
  | 'execution_completed'
  | 'execution_failed'
  | 'execution_timeout'
  | 'execution_cancelled'
>;

export interface Transition {
  from: readonly ExecutionStatus[];
  patch: Partial<ExecutionRecord> & { status: ExecutionStatus; updated_at: string };
  terminal: boolean;
}

const ACTIVE: readonly ExecutionStatus[] = ['queued', 'scheduled', 'running'];

export function transitionFor(event: LifecycleEvent, now: string): Transition {
  switch (event.event_type) {
    case 'pod_created':
      return {
        from: ['queued'],
        patch: { status: 'scheduled', scheduled_at: event.timestamp, updated_at: now },
        terminal: false,
      };
    case 'execution_started':
      return {
        from: ['queued', 'scheduled'],
        patch: { status: 'running', started_at: event.timestamp, updated_at: now },
        terminal: false,
      };
    case 'execution_cancelled':
      return {
        from: ACTIVE,
        patch: {
          status: 'cancelled',
          error_message: event.reason || null,
          finished_at: event.timestamp,
          updated_at: now,
        },
        terminal: true,
      };
    case 'execution_completed':
    case 'execution_failed':
    case 'execution_timeout': {
      const status =
        event.event_type === 'execution_completed'
          ? 'completed'
          : event.event_type === 'execution_failed'
            ? 'failed'
            : 'timeout';
      return {
        from: ACTIVE,
        patch: {
          status,
          stdout: event.stdout,
          stderr: event.stderr,
          exit_code: 'exit_code' in event ? event.exit_code : null,
          error_type:
            event.event_type === 'execution_failed'
              ? event.error_type
              : event.event_type === 'execution_timeout'
                ? 'timeout'
                : null,
          error_message:
            event.event_type === 'execution_failed'
              ? event.error_message || null
              : event.event_type === 'execution_timeout'
                ? `Time limit of ${event.timeout_seconds} s exceeded`
                : null,
          resource_usage: event.resource_usage,
          output: {
            stdout_truncated: event.stdout_truncated,
            stderr_truncated: event.stderr_truncated,
            stdout_bytes: event.stdout_bytes,
            stderr_bytes: event.stderr_bytes,
          },
          finished_at: event.finished_at ?? event.timestamp,
          updated_at: now,
        },
        terminal: true,
      };
    }
  }
}
