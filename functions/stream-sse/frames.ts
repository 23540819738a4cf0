/** The wire shape of execution stream frames (`SSEExecutionEventSchema` of the reference, plus output chunks). */
import * as v from 'valibot';
import {
  EXECUTION_STATUSES,
  type ExecutionResult,
  ExecutionResultSchema,
  type ExecutionStatus,
} from '../../shared/domain/execution';
import { type DomainEvent, EVENT_TYPES, type EventType } from '../../shared/events/schemas';

export const ExecutionFrameSchema = v.object({
  event_type: v.picklist([...EVENT_TYPES, 'status']),
  execution_id: v.string(),
  timestamp: v.nullable(v.string()),
  event_id: v.nullable(v.string()),
  status: v.nullable(v.picklist(EXECUTION_STATUSES)),
  result: v.nullable(ExecutionResultSchema),
  /** Output chunks: which stream and the text. */
  stream: v.optional(v.picklist(['stdout', 'stderr'])),
  data: v.optional(v.string()),
  exit_code: v.optional(v.number()),
  error_type: v.optional(v.string()),
  error_message: v.optional(v.string()),
});
export type ExecutionFrame = v.InferOutput<typeof ExecutionFrameSchema>;

const STATUS_AFTER: Partial<Record<EventType, ExecutionStatus>> = {
  execution_requested: 'queued',
  pod_created: 'scheduled',
  execution_started: 'running',
  execution_output: 'running',
  execution_completed: 'completed',
  execution_failed: 'failed',
  execution_timeout: 'timeout',
  execution_cancelled: 'cancelled',
};

/** Events kept off the stream: internal hand-overs whose content reaches clients another way. */
const HIDDEN: ReadonlySet<EventType> = new Set(['pod_terminated']);

export const isVisible = (event: DomainEvent): boolean => !HIDDEN.has(event.event_type);

export function frameFor(
  event: DomainEvent & { execution_id: string },
  result: ExecutionResult | null,
): ExecutionFrame {
  const frame: ExecutionFrame = {
    event_type: event.event_type,
    execution_id: event.execution_id,
    timestamp: event.timestamp,
    event_id: event.event_id,
    status: result?.status ?? STATUS_AFTER[event.event_type] ?? null,
    result,
  };
  if (event.event_type === 'execution_output') {
    frame.stream = event.stream;
    frame.data = event.data;
  }
  if ('exit_code' in event) frame.exit_code = event.exit_code;
  if (event.event_type === 'execution_failed') {
    frame.error_type = event.error_type;
    frame.error_message = event.error_message;
  }
  return frame;
}

export const statusFrame = (executionId: string, status: ExecutionStatus, now: string): ExecutionFrame => ({
  event_type: 'status',
  execution_id: executionId,
  timestamp: now,
  event_id: null,
  status,
  result: null,
});
