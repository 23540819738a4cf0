import { describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../shared/domain/execution';
import { parseDomainEvent } from '../../shared/events/schemas';
import { anExecution } from '../../shared/store/contracts/fixtures';
import { inAppNotification, notificationFor, type TerminalEvent } from './handler';

const EXECUTION_ID = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';

const execution = (patch: Partial<ExecutionRecord> = {}): ExecutionRecord =>
  anExecution({
    execution_id: EXECUTION_ID,
    script: 'print(1)',
    status: 'running',
    created_at: '2025-01-01T10:00:00.000Z',
    updated_at: '2025-01-01T10:00:01.000Z',
    scheduled_at: '2025-01-01T10:00:00.200Z',
    started_at: '2025-01-01T10:00:00.500Z',
    ...patch,
  });

/** A terminal event as the bus delivers it, so schema defaults apply exactly as in production. */
const terminalEvent = (fields: Record<string, unknown>): TerminalEvent =>
  parseDomainEvent({
    event_id: 'evt-1',
    event_version: '1.0',
    timestamp: '2025-01-01T10:00:02.000Z',
    aggregate_id: EXECUTION_ID,
    metadata: { service_name: 'monitor', service_version: 'test' },
    execution_id: EXECUTION_ID,
    ...fields,
  }) as TerminalEvent;

const output = { stdout: '', stderr: '', resource_usage: null };
const usage = (wall: number) => ({
  execution_time_wall_seconds: wall,
  cpu_time_jiffies: 3,
  clk_tck_hertz: 100,
  peak_memory_kb: 9000,
  cpu_time_seconds: 0.03,
});

describe('notificationFor', () => {
  it('reports a completed execution with its measured wall time and exit code', () => {
    const event = terminalEvent({
      event_type: 'execution_completed',
      exit_code: 0,
      ...output,
      resource_usage: usage(0.4234),
    });
    const content = notificationFor(event, execution());
    expect(content.subject).toBe('Execution completed');
    expect(content.severity).toBe('medium');
    expect(content.body).toBe('Execution 3f2b8c1e (python 3.12) finished in 0.42 s with exit code 0.');
    expect(content.tags).toEqual(['execution', 'completed', 'entity:execution', `exec:${EXECUTION_ID}`]);
  });

  it('falls back to start and finish times when the sandbox measured nothing', () => {
    const event = terminalEvent({
      event_type: 'execution_completed',
      exit_code: 0,
      finished_at: '2025-01-01T10:02:45.500Z',
      ...output,
    });
    expect(notificationFor(event, execution()).body).toContain('finished in 2 min 45 s with exit code 0');
  });

  it('leaves the duration out when it is unknown', () => {
    const event = terminalEvent({ event_type: 'execution_completed', exit_code: 0, ...output });
    expect(notificationFor(event, execution({ started_at: null })).body).toBe(
      'Execution 3f2b8c1e (python 3.12) finished with exit code 0.',
    );
  });

  it('reports a failure as high severity with the error type, exit code and a one-line reason', () => {
    const event = terminalEvent({
      event_type: 'execution_failed',
      exit_code: 1,
      error_type: 'script_error',
      error_message: `Traceback:\n  File "main.py"\nValueError: ${'x'.repeat(400)}`,
      ...output,
    });
    const content = notificationFor(event, execution());
    expect(content.subject).toBe('Execution failed');
    expect(content.severity).toBe('high');
    expect(content.body).toMatch(/^Execution 3f2b8c1e \(python 3\.12\) failed: script error, exit code 1\. /);
    expect(content.body).not.toContain('\n');
    expect(content.body).toContain('Traceback: File "main.py" ValueError: xxx');
    expect(content.body.endsWith('…')).toBe(true);
    expect(content.body.length).toBeLessThan(300);
    expect(content.tags[1]).toBe('failed');
  });

  it('names a resource-limit failure in words', () => {
    const event = terminalEvent({
      event_type: 'execution_failed',
      exit_code: 137,
      error_type: 'resource_limit',
      ...output,
    });
    expect(notificationFor(event, execution()).body).toBe(
      'Execution 3f2b8c1e (python 3.12) failed: resource limit exceeded, exit code 137.',
    );
  });

  it('reports a timeout as high severity with the limit that was hit', () => {
    const event = terminalEvent({ event_type: 'execution_timeout', timeout_seconds: 30, ...output });
    const content = notificationFor(event, execution());
    expect(content.subject).toBe('Execution timed out');
    expect(content.severity).toBe('high');
    expect(content.body).toContain('its 30 s time limit');
    expect(content.tags).toEqual(['execution', 'timeout', 'entity:execution', `exec:${EXECUTION_ID}`]);
  });

  it('reports a cancellation as low severity, with the reason when one was given', () => {
    const withReason = terminalEvent({
      event_type: 'execution_cancelled',
      cancelled_by: 'user-1',
      reason: 'took too long',
      force_terminated: true,
    });
    const content = notificationFor(withReason, execution());
    expect(content.subject).toBe('Execution cancelled');
    expect(content.severity).toBe('low');
    expect(content.body).toBe('Execution 3f2b8c1e (python 3.12) was cancelled. Reason: took too long');
    expect(content.tags[1]).toBe('cancelled');

    const withoutReason = terminalEvent({
      event_type: 'execution_cancelled',
      cancelled_by: 'user-1',
      force_terminated: false,
    });
    expect(notificationFor(withoutReason, execution()).body).toBe(
      'Execution 3f2b8c1e (python 3.12) was cancelled.',
    );
  });

  it('links to the editor route of the SPA, not to an API URL', () => {
    const event = terminalEvent({ event_type: 'execution_timeout', timeout_seconds: 5, ...output });
    expect(notificationFor(event, execution()).action_url).toBe(`/editor?execution=${EXECUTION_ID}`);
  });
});

describe('inAppNotification', () => {
  const content = notificationFor(
    terminalEvent({ event_type: 'execution_timeout', timeout_seconds: 5, ...output }),
    execution(),
  );
  const now = new Date('2025-01-01T10:00:03.000Z');

  it('is delivered the moment it is stored, unread', () => {
    const record = inAppNotification(content, 'user-1', 'evt-1', now);
    expect(record).toMatchObject({
      ...content,
      user_id: 'user-1',
      channel: 'in_app',
      status: 'delivered',
      read_at: null,
      created_at: now.toISOString(),
      source_event_id: 'evt-1',
    });
  });

  it('gets the same id for a redelivered event and a different one for another event or user', () => {
    const first = inAppNotification(content, 'user-1', 'evt-1', now).notification_id;
    expect(inAppNotification(content, 'user-1', 'evt-1', new Date()).notification_id).toBe(first);
    expect(inAppNotification(content, 'user-1', 'evt-2', now).notification_id).not.toBe(first);
    expect(inAppNotification(content, 'user-2', 'evt-1', now).notification_id).not.toBe(first);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
