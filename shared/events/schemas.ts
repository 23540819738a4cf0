/**
 * Every event the platform produces or consumes, validated in one place.
 * Names and envelope fields follow the reference system; payload fields sit beside the envelope,
 * as they do there. Fields the reference lacks are additive.
 */
import * as v from 'valibot';
import { ERROR_TYPES, QUEUE_PRIORITIES, ResourceUsageSchema } from '../domain/execution';
import { NOTIFICATION_SEVERITIES } from '../domain/notification';

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(200));
// Consumers do date arithmetic on these: a spelling `Date` cannot read (`+05`) is a malformed event.
const Timestamp = v.pipe(
  v.string(),
  v.isoTimestamp(),
  v.check((text) => !Number.isNaN(Date.parse(text)), 'must be a date-time'),
);

export const EventMetadataSchema = v.object({
  service_name: v.string(),
  service_version: v.string(),
  user_id: v.optional(v.string()),
  environment: v.optional(v.string()),
  correlation_id: v.optional(v.string()),
  /** W3C trace context of the request that caused the event. */
  traceparent: v.optional(v.string()),
});
export type EventMetadata = v.InferOutput<typeof EventMetadataSchema>;

const envelope = {
  event_id: Id,
  event_version: v.literal('1.0'),
  timestamp: Timestamp,
  aggregate_id: Id,
  metadata: EventMetadataSchema,
};

const OutputFields = {
  stdout: v.string(),
  stderr: v.string(),
  stdout_truncated: v.optional(v.boolean(), false),
  stderr_truncated: v.optional(v.boolean(), false),
  stdout_bytes: v.optional(v.number(), 0),
  stderr_bytes: v.optional(v.number(), 0),
  resource_usage: v.nullable(ResourceUsageSchema),
};

const event = <T extends string, E extends v.ObjectEntries>(type: T, entries: E) =>
  v.object({ ...envelope, event_type: v.literal(type), execution_id: Id, ...entries });

export const ExecutionRequestedSchema = event('execution_requested', {
  script: v.string(),
  stdin: v.optional(v.string(), ''),
  language: v.string(),
  language_version: v.string(),
  timeout_seconds: v.number(),
  cpu_limit: v.string(),
  memory_limit: v.string(),
  cpu_request: v.string(),
  memory_request: v.string(),
  priority: v.picklist(QUEUE_PRIORITIES),
});

export const PodCreatedSchema = event('pod_created', { pod_name: v.string(), namespace: v.string() });

export const ExecutionStartedSchema = event('execution_started', {
  pod_name: v.string(),
  node_name: v.nullish(v.string()),
  container_id: v.nullish(v.string()),
});

/** A chunk of live output. Appended to the event store and fanned out; never delivered to functions. */
export const ExecutionOutputSchema = event('execution_output', {
  stream: v.picklist(['stdout', 'stderr']),
  data: v.string(),
});

export const SANDBOX_END_REASONS = [
  'exited',
  'wall_timeout',
  'cpu_timeout',
  'memory_limit',
  'process_limit',
  'cancelled',
  'sandbox_error',
] as const;
export type SandboxEndReason = (typeof SANDBOX_END_REASONS)[number];

/** The sandbox ended. Raw facts; monitor turns them into an outcome. */
export const PodTerminatedSchema = event('pod_terminated', {
  pod_name: v.string(),
  exit_code: v.number(),
  signal: v.nullish(v.string()),
  reason: v.picklist(SANDBOX_END_REASONS),
  message: v.nullish(v.string()),
  timeout_seconds: v.number(),
  started_at: v.nullish(Timestamp),
  finished_at: Timestamp,
  ...OutputFields,
});

export const ExecutionCompletedSchema = event('execution_completed', {
  exit_code: v.number(),
  finished_at: v.optional(Timestamp),
  ...OutputFields,
});

export const ExecutionFailedSchema = event('execution_failed', {
  exit_code: v.number(),
  error_type: v.picklist(ERROR_TYPES),
  error_message: v.optional(v.string(), ''),
  finished_at: v.optional(Timestamp),
  ...OutputFields,
});

export const ExecutionTimeoutSchema = event('execution_timeout', {
  timeout_seconds: v.number(),
  finished_at: v.optional(Timestamp),
  ...OutputFields,
});

export const ExecutionCancelledSchema = event('execution_cancelled', {
  cancelled_by: v.string(),
  reason: v.optional(v.string(), ''),
  force_terminated: v.boolean(),
});

export const ResultStoredSchema = event('result_stored', {
  storage_type: v.literal('database'),
  storage_path: v.string(),
  size_bytes: v.number(),
});

export const ResultFailedSchema = event('result_failed', {
  storage_type: v.literal('database'),
  error: v.string(),
});

export const NotificationCreatedSchema = v.object({
  ...envelope,
  event_type: v.literal('notification_created'),
  notification_id: Id,
  user_id: Id,
  subject: v.string(),
  body: v.string(),
  severity: v.picklist(NOTIFICATION_SEVERITIES),
  tags: v.array(v.string()),
  channels: v.array(v.string()),
});

const userEvent = <T extends string>(type: T) =>
  v.object({
    ...envelope,
    event_type: v.literal(type),
    user_id: v.optional(v.string()),
    username: v.string(),
    ip_address: v.optional(v.string()),
    user_agent: v.optional(v.string()),
    reason: v.optional(v.string()),
  });

export const UserRegisteredSchema = userEvent('user_registered');
export const UserLoggedInSchema = userEvent('user_logged_in');
export const UserLoggedOutSchema = userEvent('user_logged_out');
export const AuthFailedSchema = userEvent('auth_failed');

export const DomainEventSchema = v.variant('event_type', [
  ExecutionRequestedSchema,
  PodCreatedSchema,
  ExecutionStartedSchema,
  ExecutionOutputSchema,
  PodTerminatedSchema,
  ExecutionCompletedSchema,
  ExecutionFailedSchema,
  ExecutionTimeoutSchema,
  ExecutionCancelledSchema,
  ResultStoredSchema,
  ResultFailedSchema,
  NotificationCreatedSchema,
  UserRegisteredSchema,
  UserLoggedInSchema,
  UserLoggedOutSchema,
  AuthFailedSchema,
]);

export type DomainEvent = v.InferOutput<typeof DomainEventSchema>;
export type EventType = DomainEvent['event_type'];
export type EventOf<T extends EventType> = Extract<DomainEvent, { event_type: T }>;
export type ExecutionEvent = Extract<DomainEvent, { execution_id: string }>;

export const EVENT_TYPES = DomainEventSchema.options.map((o) => o.entries.event_type.literal) as EventType[];

export const TERMINAL_EXECUTION_EVENTS = [
  'execution_completed',
  'execution_failed',
  'execution_timeout',
  'execution_cancelled',
] as const satisfies readonly EventType[];

/** Events that end an execution's stream: its result is stored, or storing it failed. */
export const STREAM_END_EVENTS = ['result_stored', 'result_failed'] as const satisfies readonly EventType[];

export function parseDomainEvent(input: unknown): DomainEvent {
  return v.parse(DomainEventSchema, input);
}

export function safeParseDomainEvent(
  input: unknown,
): { ok: true; event: DomainEvent } | { ok: false; issues: string } {
  const result = v.safeParse(DomainEventSchema, input);
  if (result.success) return { ok: true, event: result.output };
  return { ok: false, issues: v.summarize(result.issues) };
}
