/**
 * Valid events of several types for tests. Each goes through the schema, so defaults are filled in and
 * a round trip through any transport must give back an equal object.
 */
import { randomUUID } from 'node:crypto';
import { type EventOf, type EventType, parseDomainEvent } from './schemas';

function envelope(aggregateId: string, traceparent?: string) {
  return {
    event_id: randomUUID(),
    event_version: '1.0',
    timestamp: new Date().toISOString(),
    aggregate_id: aggregateId,
    metadata: { service_name: 'submit', service_version: '0.1.0', ...(traceparent ? { traceparent } : {}) },
  };
}

const parse = <T extends EventType>(fields: Record<string, unknown>): EventOf<T> =>
  parseDomainEvent(fields) as EventOf<T>;

export function executionRequested(executionId: string = randomUUID(), traceparent?: string) {
  return parse<'execution_requested'>({
    ...envelope(executionId, traceparent),
    event_type: 'execution_requested',
    execution_id: executionId,
    script: 'print("hello, wörld")\n',
    language: 'python',
    language_version: '3.12',
    timeout_seconds: 30,
    cpu_limit: '500m',
    memory_limit: '128Mi',
    cpu_request: '100m',
    memory_request: '64Mi',
    priority: 'normal',
  });
}

export function podCreated(executionId: string = randomUUID()) {
  return parse<'pod_created'>({
    ...envelope(executionId),
    event_type: 'pod_created',
    execution_id: executionId,
    pod_name: `executor-${executionId}`,
    namespace: 'integr8scode',
  });
}

export function executionStarted(executionId: string = randomUUID()) {
  return parse<'execution_started'>({
    ...envelope(executionId),
    event_type: 'execution_started',
    execution_id: executionId,
    pod_name: `executor-${executionId}`,
  });
}

export function executionOutput(executionId: string = randomUUID()) {
  return parse<'execution_output'>({
    ...envelope(executionId),
    event_type: 'execution_output',
    execution_id: executionId,
    stream: 'stdout',
    data: 'hello\n',
  });
}

export function executionCompleted(executionId: string = randomUUID()) {
  return parse<'execution_completed'>({
    ...envelope(executionId),
    event_type: 'execution_completed',
    execution_id: executionId,
    exit_code: 0,
    stdout: 'hello\n',
    stderr: '',
    resource_usage: {
      execution_time_wall_seconds: 0.12,
      cpu_time_jiffies: 3,
      clk_tck_hertz: 100,
      peak_memory_kb: 9000,
      cpu_time_seconds: 0.03,
    },
  });
}

export function executionFailed(executionId: string = randomUUID()) {
  return parse<'execution_failed'>({
    ...envelope(executionId),
    event_type: 'execution_failed',
    execution_id: executionId,
    exit_code: 3,
    error_type: 'script_error',
    error_message: 'Traceback (most recent call last): ValueError',
    stdout: '',
    stderr: 'ValueError\n',
    resource_usage: null,
  });
}

export function userLoggedIn(userId: string = randomUUID()) {
  return parse<'user_logged_in'>({
    ...envelope(userId),
    event_type: 'user_logged_in',
    user_id: userId,
    username: 'ada',
    ip_address: '127.0.0.1',
  });
}

export function notificationCreated(userId: string = randomUUID()) {
  return parse<'notification_created'>({
    ...envelope(userId),
    event_type: 'notification_created',
    notification_id: randomUUID(),
    user_id: userId,
    subject: 'Execution completed',
    body: 'Your script finished.',
    severity: 'medium',
    tags: ['execution', 'completed'],
    channels: ['in_app'],
  });
}
