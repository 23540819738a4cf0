import { describe, expect, it } from 'vitest';
import {
  executionCompleted,
  executionFailed,
  executionRequested,
  executionStarted,
  podCreated,
} from '../events/sample-events';
import type { DomainEvent } from '../events/schemas';
import { foldExecutionSaga } from './saga';

const ID = '00000000-0000-4000-8000-000000000001';
/** The events in order, a second apart. */
const timed = (...events: DomainEvent[]) =>
  events.map((event, i) => ({ ...event, timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString() }));
const stored = (): DomainEvent =>
  ({
    ...executionRequested(ID),
    event_type: 'result_stored',
    storage_type: 'database',
  }) as unknown as DomainEvent;

describe('foldExecutionSaga', () => {
  it('is nothing before the request is stored', () => {
    expect(foldExecutionSaga(ID, [])).toBeNull();
    expect(foldExecutionSaga(ID, timed(podCreated(ID)))).toBeNull();
  });

  it('runs step by step, then completes once the result is stored', () => {
    const queued = foldExecutionSaga(ID, timed(executionRequested(ID)))!;
    expect(queued).toMatchObject({
      saga_id: ID,
      state: 'running',
      current_step: 'allocate_resources',
      completed_steps: ['validate_execution'],
      completed_at: null,
    });
    const running = foldExecutionSaga(
      ID,
      timed(executionRequested(ID), podCreated(ID), executionStarted(ID)),
    )!;
    expect(running).toMatchObject({ state: 'running', current_step: 'store_result' });
    const ran = timed(executionRequested(ID), podCreated(ID), executionStarted(ID), executionCompleted(ID));
    expect(foldExecutionSaga(ID, ran)!.state).toBe('running');
    const done = foldExecutionSaga(ID, timed(...ran, stored()))!;
    expect(done).toMatchObject({
      state: 'completed',
      current_step: null,
      completed_steps: [
        'validate_execution',
        'allocate_resources',
        'create_pod',
        'run_script',
        'store_result',
      ],
      compensated_steps: [],
      error_message: null,
      created_at: '2025-01-01T00:00:00.000Z',
      completed_at: '2025-01-01T00:00:04.000Z',
    });
  });

  it('compensates a started run that failed or was cancelled, and not one that never started', () => {
    const failed = foldExecutionSaga(ID, timed(executionRequested(ID), podCreated(ID), executionFailed(ID)))!;
    expect(failed).toMatchObject({
      state: 'failed',
      compensated_steps: ['create_pod', 'allocate_resources'],
    });
    expect(failed.error_message).toBeTruthy();
    const cancel = {
      ...executionRequested(ID),
      event_type: 'execution_cancelled',
      cancelled_by: 'u',
      reason: 'changed my mind',
      force_terminated: false,
    } as unknown as DomainEvent;
    const early = foldExecutionSaga(ID, timed(executionRequested(ID), cancel))!;
    expect(early).toMatchObject({
      state: 'cancelled',
      compensated_steps: [],
      error_message: 'changed my mind',
    });
  });
});
