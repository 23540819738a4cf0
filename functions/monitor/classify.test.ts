import { describe, expect, it } from 'vitest';
import type { EventOf } from '../../shared/events/schemas';
import { classifyTermination } from './classify';

const pod = (overrides: Partial<EventOf<'pod_terminated'>>): EventOf<'pod_terminated'> => ({
  event_id: 'e1',
  event_type: 'pod_terminated',
  event_version: '1.0',
  timestamp: '2026-01-01T00:00:00.000Z',
  aggregate_id: 'x1',
  metadata: { service_name: 'run-pod', service_version: '1' },
  execution_id: 'x1',
  pod_name: 'local-x1',
  exit_code: 0,
  signal: null,
  reason: 'exited',
  message: null,
  timeout_seconds: 5,
  started_at: '2026-01-01T00:00:00.000Z',
  finished_at: '2026-01-01T00:00:01.000Z',
  stdout: 'out',
  stderr: 'err',
  stdout_truncated: false,
  stderr_truncated: true,
  stdout_bytes: 3,
  stderr_bytes: 9000,
  resource_usage: null,
  ...overrides,
});

describe('classifyTermination', () => {
  it('exit 0 completes and carries the output summary', () => {
    const outcome = classifyTermination(pod({}));
    expect(outcome).toMatchObject({
      event_type: 'execution_completed',
      exit_code: 0,
      stdout: 'out',
      stderr_truncated: true,
      stderr_bytes: 9000,
    });
  });

  it('a non-zero exit is a script error with the code', () => {
    expect(classifyTermination(pod({ exit_code: 3 }))).toMatchObject({
      event_type: 'execution_failed',
      error_type: 'script_error',
      exit_code: 3,
      error_message: 'Script exited with code 3',
    });
  });

  it('a signal names the signal', () => {
    expect(classifyTermination(pod({ exit_code: 139, signal: 'SIGSEGV' }))).toMatchObject({
      error_type: 'script_error',
      error_message: 'Script killed by SIGSEGV',
    });
  });

  it('the memory limit is a resource limit failure', () => {
    expect(classifyTermination(pod({ reason: 'memory_limit', exit_code: 137 }))).toMatchObject({
      event_type: 'execution_failed',
      error_type: 'resource_limit',
    });
  });

  it('the wall-clock deadline is a timeout with the limit', () => {
    expect(classifyTermination(pod({ reason: 'wall_timeout', exit_code: 137 }))).toMatchObject({
      event_type: 'execution_timeout',
      timeout_seconds: 5,
    });
  });

  it('the CPU limit fails with error type timeout', () => {
    expect(classifyTermination(pod({ reason: 'cpu_timeout', exit_code: 137 }))).toMatchObject({
      event_type: 'execution_failed',
      error_type: 'timeout',
    });
  });

  it('a fork bomb that failed is a resource limit; one the script survived still completes', () => {
    expect(classifyTermination(pod({ reason: 'process_limit', exit_code: 1 }))).toMatchObject({
      error_type: 'resource_limit',
    });
    expect(classifyTermination(pod({ reason: 'process_limit', exit_code: 0 }))).toMatchObject({
      event_type: 'execution_completed',
    });
  });

  it('a sandbox failure is a system error with its message', () => {
    expect(
      classifyTermination(pod({ reason: 'sandbox_error', exit_code: -1, message: 'bwrap missing' })),
    ).toMatchObject({
      error_type: 'system_error',
      error_message: 'bwrap missing',
    });
  });

  it('a cancelled run produces no event of its own', () => {
    expect(classifyTermination(pod({ reason: 'cancelled', exit_code: 137 }))).toBeNull();
  });
});
