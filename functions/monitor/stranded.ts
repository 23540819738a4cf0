/**
 * The backstop for an execution whose pod vanished unseen: deleted while no monitor watched (a re-list
 * only reports deletions of pods the process had seen), or its ApiServerSource event lost. Scheduled or
 * running in the store, no executor pod left, no end reported, and untouched for longer than the grace:
 * it ends as a system error, so no execution waits for ever.
 */
import type { ExecutionStatus } from '../../shared/domain/execution';
import type { EventOf } from '../../shared/events/schemas';
import { TERMINAL_EXECUTION_EVENTS } from '../../shared/events/schemas';
import type { Platform } from '../../shared/platform/platform';
import { executorName } from '../../shared/sandbox/kubernetes/contract';
import { publishOutcome } from './outcome';

export const STRANDED_MESSAGE =
  'The pod of this execution disappeared and how the script ended was never seen';

const PAGE = 200;
/** Looked at per sweep, at most; the rest wait for the next one. */
const MAX_PER_SWEEP = 2000;

export async function endStrandedExecutions(options: {
  platform: Platform;
  /** Executions whose executor pod is still there. */
  withPods: ReadonlySet<string>;
  now: Date;
  graceMs: number;
}): Promise<string[]> {
  const { platform, withPods } = options;
  const before = options.now.getTime() - options.graceMs;
  const ended: string[] = [];
  for (const status of ['scheduled', 'running'] as ExecutionStatus[]) {
    for (let skip = 0; skip < MAX_PER_SWEEP; skip += PAGE) {
      const { items } = await platform.store.executions.list({ status }, { limit: PAGE, skip });
      for (const execution of items) {
        const id = execution.execution_id;
        if (withPods.has(id) || Date.parse(execution.updated_at) > before) continue;
        const reported = await platform.store.events.listByAggregate(id, {
          eventTypes: [...TERMINAL_EXECUTION_EVENTS, 'pod_terminated'],
        });
        if (reported.length > 0) continue;
        const terminated = await platform.events.publish(
          platform.events.create<EventOf<'pod_terminated'>>(
            {
              event_type: 'pod_terminated',
              execution_id: id,
              pod_name: executorName(id),
              exit_code: -1,
              signal: null,
              reason: 'sandbox_error',
              message: STRANDED_MESSAGE,
              timeout_seconds: 0,
              started_at: execution.started_at,
              finished_at: options.now.toISOString(),
              stdout: '',
              stderr: '',
              stdout_truncated: false,
              stderr_truncated: false,
              stdout_bytes: 0,
              stderr_bytes: 0,
              resource_usage: null,
            },
            // Derived from the execution: sweeps that find it again publish the same ending.
            { userId: execution.user_id, causedBy: `executor-stranded:${id}` },
          ),
        );
        await publishOutcome(platform, terminated.event as EventOf<'pod_terminated'>);
        ended.push(id);
      }
      if (items.length < PAGE) break;
    }
  }
  return ended;
}
