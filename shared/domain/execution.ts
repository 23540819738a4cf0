/** Execution domain: statuses, the records we persist and the shapes the API returns. */
import * as v from 'valibot';

export const EXECUTION_STATUSES = [
  'queued',
  'scheduled',
  'running',
  'completed',
  'failed',
  'timeout',
  'cancelled',
  'error',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set([
  'completed',
  'failed',
  'timeout',
  'cancelled',
  'error',
]);
export const isTerminal = (status: ExecutionStatus): boolean => TERMINAL_STATUSES.has(status);

export const ERROR_TYPES = [
  'system_error',
  'timeout',
  'resource_limit',
  'script_error',
  'permission_denied',
] as const;
export type ExecutionErrorType = (typeof ERROR_TYPES)[number];

export const QUEUE_PRIORITIES = ['critical', 'high', 'normal', 'low', 'background'] as const;
export type QueuePriority = (typeof QUEUE_PRIORITIES)[number];

const int = v.pipe(v.number(), v.integer());

/** Resource usage as the reference reports it, plus the exact CPU time we measure. */
export const ResourceUsageSchema = v.object({
  execution_time_wall_seconds: v.number(),
  cpu_time_jiffies: v.number(),
  clk_tck_hertz: v.number(),
  peak_memory_kb: v.number(),
  cpu_time_seconds: v.number(),
});
export type ResourceUsage = v.InferOutput<typeof ResourceUsageSchema>;

/** Milliseconds spent in each phase: waiting for a slot, starting the sandbox, running the script. */
const PhaseTimingsEntries = {
  queued_ms: v.nullable(int),
  start_ms: v.nullable(int),
  run_ms: v.nullable(int),
};
export type PhaseTimings = v.InferOutput<v.ObjectSchema<typeof PhaseTimingsEntries, undefined>>;

/** Whether the output was cut at the limit, and how long it really was. */
export const OutputSummarySchema = v.object({
  stdout_truncated: v.boolean(),
  stderr_truncated: v.boolean(),
  stdout_bytes: int,
  stderr_bytes: int,
});
export type OutputSummary = v.InferOutput<typeof OutputSummarySchema>;

export interface ExecutionRecord {
  execution_id: string;
  user_id: string;
  script: string;
  stdin: string;
  lang: string;
  lang_version: string;
  priority: QueuePriority;
  status: ExecutionStatus;
  stdout: string | null;
  stderr: string | null;
  exit_code: number | null;
  error_type: ExecutionErrorType | null;
  error_message: string | null;
  resource_usage: ResourceUsage | null;
  output: OutputSummary | null;
  created_at: string;
  updated_at: string;
  scheduled_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export type NewExecution = Pick<
  ExecutionRecord,
  'execution_id' | 'user_id' | 'script' | 'stdin' | 'lang' | 'lang_version' | 'priority' | 'created_at'
>;

/** A freshly accepted execution: queued, nothing measured yet. */
export const newExecution = (fields: NewExecution): ExecutionRecord => ({
  ...fields,
  status: 'queued',
  stdout: null,
  stderr: null,
  exit_code: null,
  error_type: null,
  error_message: null,
  resource_usage: null,
  output: null,
  updated_at: fields.created_at,
  scheduled_at: null,
  started_at: null,
  finished_at: null,
});

/** `ExecutionResult` of the reference API, with our additive fields. */
export const ExecutionResultSchema = v.object({
  execution_id: v.string(),
  status: v.picklist(EXECUTION_STATUSES),
  stdout: v.nullable(v.string()),
  stderr: v.nullable(v.string()),
  lang: v.string(),
  lang_version: v.string(),
  resource_usage: v.nullable(ResourceUsageSchema),
  exit_code: v.nullable(int),
  error_type: v.nullable(v.picklist(ERROR_TYPES)),
  error_message: v.nullable(v.string()),
  priority: v.picklist(QUEUE_PRIORITIES),
  output: v.nullable(OutputSummarySchema),
  script: v.string(),
  created_at: v.string(),
  updated_at: v.string(),
  ...PhaseTimingsEntries,
});
export type ExecutionResult = v.InferOutput<typeof ExecutionResultSchema>;

const msBetween = (from: string | null, to: string | null): number | null =>
  from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : null;

export function toExecutionResult(record: ExecutionRecord): ExecutionResult {
  return {
    execution_id: record.execution_id,
    status: record.status,
    stdout: record.stdout,
    stderr: record.stderr,
    lang: record.lang,
    lang_version: record.lang_version,
    resource_usage: record.resource_usage,
    exit_code: record.exit_code,
    error_type: record.error_type,
    error_message: record.error_message,
    priority: record.priority,
    output: record.output,
    script: record.script,
    created_at: record.created_at,
    updated_at: record.updated_at,
    queued_ms: msBetween(record.created_at, record.scheduled_at),
    start_ms: msBetween(record.scheduled_at, record.started_at),
    run_ms: msBetween(record.started_at, record.finished_at),
  };
}
