import { describe, expect, it } from 'vitest';
import { applyEvent, initialRun, isFinalFrame, LIVE_OUTPUT_LIMIT, type RunState } from './execution';
import type { ExecutionEvent, ExecutionResult } from './types';

const ID = 'exec-1';
const frame = (event_type: string, extra: Partial<ExecutionEvent> = {}): ExecutionEvent => ({
  event_type,
  execution_id: ID,
  ...extra,
});
const fold = (events: ExecutionEvent[], start: RunState = initialRun(ID)): RunState =>
  events.reduce(applyEvent, start);

const stored: ExecutionResult = {
  execution_id: ID,
  status: 'completed',
  stdout: 'head…tail\n',
  stderr: 'warn\n',
  lang: 'python',
  lang_version: '3.11',
  exit_code: 0,
  error_type: null,
  error_message: null,
  resource_usage: null,
  output: { stdout_truncated: true, stderr_truncated: false, stdout_bytes: 5_000_000, stderr_bytes: 5 },
};

describe('applyEvent', () => {
  it('walks the phases queued → scheduled → running → completed', () => {
    const seen: string[] = [];
    let state = initialRun(ID);
    for (const event of [
      frame('status', { status: 'queued' }),
      frame('pod_created', { status: 'scheduled' }),
      frame('execution_started', { status: 'running' }),
      frame('execution_completed', { status: 'completed' }),
    ]) {
      state = applyEvent(state, event);
      seen.push(state.status);
    }
    expect(seen).toEqual(['queued', 'scheduled', 'running', 'completed']);
  });

  it('infers the phase from the event type when a frame carries no status', () => {
    expect(fold([frame('pod_created')]).status).toBe('scheduled');
    expect(fold([frame('execution_timeout')]).status).toBe('timeout');
  });

  it('never moves a phase backwards, nor out of a terminal status', () => {
    expect(fold([frame('execution_started'), frame('status', { status: 'queued' })]).status).toBe('running');
    expect(fold([frame('execution_cancelled'), frame('execution_started')]).status).toBe('cancelled');
    expect(fold([frame('execution_timeout'), frame('execution_failed')]).status).toBe('timeout');
  });

  it('appends output chunks to their own stream', () => {
    const state = fold([
      frame('execution_output', { stream: 'stdout', data: 'a' }),
      frame('execution_output', { stream: 'stderr', data: 'oops' }),
      frame('execution_output', { stream: 'stdout', data: 'b\n' }),
    ]);
    expect(state.stdout).toBe('ab\n');
    expect(state.stderr).toBe('oops');
    expect(state.status).toBe('running');
  });

  it('replaces live output with the stored result', () => {
    const state = fold([
      frame('execution_output', { stream: 'stdout', data: 'live only' }),
      frame('execution_completed', { status: 'completed' }),
      frame('result_stored', { status: 'completed', result: stored }),
    ]);
    expect(state.stdout).toBe('head…tail\n');
    expect(state.stderr).toBe('warn\n');
    expect(state.result).toBe(stored);
    expect(state.status).toBe('completed');
  });

  it('ignores frames after the result and frames of other executions', () => {
    const done = fold([frame('result_stored', { result: stored })]);
    expect(applyEvent(done, frame('execution_output', { stream: 'stdout', data: 'late' })).stdout).toBe(
      'head…tail\n',
    );
    const other = applyEvent(initialRun(ID), { ...frame('execution_started'), execution_id: 'exec-2' });
    expect(other.status).toBe('queued');
  });

  it('marks the result as missing when the stream ends without one', () => {
    expect(fold([frame('result_failed', { status: 'failed' })]).resultMissing).toBe(true);
    expect(fold([frame('result_stored', { result: null })]).resultMissing).toBe(true);
  });

  it('stops keeping live output past the limit and says so', () => {
    const big = 'x'.repeat(LIVE_OUTPUT_LIMIT - 10);
    const state = fold([
      frame('execution_output', { stream: 'stdout', data: big }),
      frame('execution_output', { stream: 'stderr', data: 'y'.repeat(50) }),
    ]);
    expect(state.stdout.length + state.stderr.length).toBe(LIVE_OUTPUT_LIMIT);
    expect(state.clipped).toBe(true);
  });
});

describe('isFinalFrame', () => {
  it('is true only for the frames after which the server closes the stream', () => {
    expect(isFinalFrame(frame('result_stored'))).toBe(true);
    expect(isFinalFrame(frame('result_failed'))).toBe(true);
    expect(isFinalFrame(frame('execution_completed'))).toBe(false);
  });
});
