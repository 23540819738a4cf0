/**
 * The execution saga, read from an execution's lifecycle events: each step done, the compensations run
 * when a started run was stopped or failed, and the saga's state. Nothing is stored for it — the events
 * are the record, so the saga of any execution can be shown however it ended, and one execution has
 * exactly one saga (its id is the execution id).
 */
import * as v from 'valibot';
import type { DomainEvent } from '../events/schemas';
import type { ExecutionStatus } from './execution';

export const SAGA_STATES = [
  'created',
  'running',
  'compensating',
  'completed',
  'failed',
  'timeout',
  'cancelled',
] as const;
export type SagaState = (typeof SAGA_STATES)[number];

export const SAGA_NAME = 'execution_saga';

/** The steps in order, each marked done by the event that shows it happened. */
export const SAGA_STEPS = [
  ['validate_execution', 'execution_requested'],
  ['allocate_resources', 'pod_created'],
  ['create_pod', 'pod_created'],
  ['run_script', 'execution_started'],
  ['store_result', 'result_stored'],
] as const;
export type SagaStep = (typeof SAGA_STEPS)[number][0];

export const SagaStatusSchema = v.object({
  saga_id: v.string(),
  saga_name: v.string(),
  execution_id: v.string(),
  state: v.picklist(SAGA_STATES),
  current_step: v.nullable(v.string()),
  completed_steps: v.array(v.string()),
  compensated_steps: v.array(v.string()),
  error_message: v.nullable(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
  completed_at: v.nullable(v.string()),
  retry_count: v.pipe(v.number(), v.integer()),
});
export type SagaStatus = v.InferOutput<typeof SagaStatusSchema>;

const ENDINGS: Partial<Record<DomainEvent['event_type'], SagaState>> = {
  execution_completed: 'completed',
  execution_failed: 'failed',
  execution_timeout: 'timeout',
  execution_cancelled: 'cancelled',
  result_failed: 'failed',
};

/** The saga states an execution in each status is in: how saga lists filter by state in the store. */
export const EXECUTION_STATUSES_OF_SAGA_STATE: Record<SagaState, readonly ExecutionStatus[]> = {
  created: [],
  running: ['queued', 'scheduled', 'running'],
  compensating: [],
  completed: ['completed'],
  failed: ['failed', 'error'],
  timeout: ['timeout'],
  cancelled: ['cancelled'],
};

/** Folds an execution's events (oldest first) into its saga; null before its request is stored. */
export function foldExecutionSaga(executionId: string, events: readonly DomainEvent[]): SagaStatus | null {
  const requested = events.find((event) => event.event_type === 'execution_requested');
  if (!requested) return null;
  const seen = new Set(events.map((event) => event.event_type));
  const completed: SagaStep[] = SAGA_STEPS.filter(([, shownBy]) => seen.has(shownBy)).map(([step]) => step);
  const ending = events.find((event) => ENDINGS[event.event_type] !== undefined);
  let state: SagaState = ending ? ENDINGS[ending.event_type]! : 'running';
  // The result is stored after the run ends: until then an ended run is not yet a finished saga.
  if (state === 'completed' && !seen.has('result_stored')) state = 'running';
  // A run that was started and then stopped or failed gave back its sandbox and its slot.
  const compensated: SagaStep[] =
    ending && state !== 'completed' && completed.includes('create_pod')
      ? ['create_pod', 'allocate_resources']
      : [];
  const errorMessage = ending ? errorOf(ending) : null;
  const last = events.at(-1)!;
  const finished = state !== 'running';
  return {
    saga_id: executionId,
    saga_name: SAGA_NAME,
    execution_id: executionId,
    state,
    current_step: finished ? null : (SAGA_STEPS.find(([step]) => !completed.includes(step))?.[0] ?? null),
    completed_steps: completed,
    compensated_steps: compensated,
    error_message: errorMessage,
    created_at: requested.timestamp,
    updated_at: last.timestamp,
    completed_at: finished ? last.timestamp : null,
    retry_count: 0,
  };
}

function errorOf(event: DomainEvent): string | null {
  switch (event.event_type) {
    case 'execution_failed':
      return event.error_message || event.error_type;
    case 'execution_timeout':
      return 'The script ran out of time';
    case 'execution_cancelled':
      return event.reason || 'Cancelled';
    case 'result_failed':
      return event.error;
    default:
      return null;
  }
}
