/** Folds the frames of an execution's event stream into what the output panel shows. */
import { type ExecutionEvent, type ExecutionResult, type ExecutionStatus, isTerminalStatus } from './types';

/** Live output kept in the page before the authoritative result replaces it. */
export const LIVE_OUTPUT_LIMIT = 1_000_000;

export interface RunState {
  executionId: string;
  status: ExecutionStatus;
  stdout: string;
  stderr: string;
  /** Set when live output went past LIVE_OUTPUT_LIMIT and later chunks were dropped. */
  clipped: boolean;
  result: ExecutionResult | null;
  /** The stream ended without a stored result (`result_failed`); the caller fetches it instead. */
  resultMissing: boolean;
}

const STATUS_BY_EVENT: Record<string, ExecutionStatus> = {
  execution_queued: 'queued',
  pod_created: 'scheduled',
  execution_scheduled: 'scheduled',
  execution_started: 'running',
  execution_running: 'running',
  execution_completed: 'completed',
  execution_failed: 'failed',
  execution_timeout: 'timeout',
  execution_cancelled: 'cancelled',
};

const PHASE_RANK: Record<ExecutionStatus, number> = {
  queued: 0,
  scheduled: 1,
  running: 2,
  completed: 3,
  failed: 3,
  timeout: 3,
  cancelled: 3,
  error: 3,
};

export function initialRun(executionId: string, status: ExecutionStatus = 'queued'): RunState {
  return { executionId, status, stdout: '', stderr: '', clipped: false, result: null, resultMissing: false };
}

/** Builds the state of a run that is already known in full (read-back from history). */
export function runFromResult(result: ExecutionResult): RunState {
  return {
    executionId: result.execution_id,
    status: result.status,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    clipped: false,
    result,
    resultMissing: false,
  };
}

/** Phases only move forward: a late or replayed frame must not turn "running" back into "queued". */
function advance(current: ExecutionStatus, next: ExecutionStatus | null | undefined): ExecutionStatus {
  if (!next || !(next in PHASE_RANK)) return current;
  if (isTerminalStatus(current)) return current;
  return PHASE_RANK[next] >= PHASE_RANK[current] ? next : current;
}

function appendChunk(state: RunState, stream: 'stdout' | 'stderr', chunk: string): RunState {
  const used = state.stdout.length + state.stderr.length;
  const room = LIVE_OUTPUT_LIMIT - used;
  if (room <= 0) return { ...state, clipped: true };
  const kept = chunk.length > room ? chunk.slice(0, room) : chunk;
  return { ...state, [stream]: state[stream] + kept, clipped: state.clipped || kept.length < chunk.length };
}

export function applyEvent(state: RunState, event: ExecutionEvent): RunState {
  if (event.execution_id && event.execution_id !== state.executionId) return state;
  if (state.result) return state;
  switch (event.event_type) {
    case 'execution_output': {
      const stream = event.stream === 'stderr' ? 'stderr' : 'stdout';
      const withOutput = event.data ? appendChunk(state, stream, event.data) : state;
      return { ...withOutput, status: advance(withOutput.status, 'running') };
    }
    case 'result_stored': {
      const result = event.result;
      if (!result) return { ...state, resultMissing: true };
      return runFromResult(result);
    }
    case 'result_failed':
      return { ...state, status: advance(state.status, event.status), resultMissing: true };
    default: {
      const next = event.status ?? STATUS_BY_EVENT[event.event_type];
      return { ...state, status: advance(state.status, next) };
    }
  }
}

/** The frames after which the server closes the stream; closing first stops EventSource from reconnecting. */
export const isFinalFrame = (event: ExecutionEvent): boolean =>
  event.event_type === 'result_stored' || event.event_type === 'result_failed';
