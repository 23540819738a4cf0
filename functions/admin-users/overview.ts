/**
 * `AdminUserOverview`: the account, the statistics of its events over the last day, its executions by
 * outcome and its newest execution events. Counting is the store's; this shapes the answer.
 */
import type { ExecutionStatus } from '../../shared/domain/execution';
import { toUserResponse, type UserRecord } from '../../shared/domain/user';
import type { DomainEvent, EventType } from '../../shared/events/schemas';
import type { Platform } from '../../shared/platform/platform';
import type { EventTally } from '../../shared/store/ports';

/** The window of `stats`, as in the reference. */
export const STATS_HOURS = 24;
/** How many of the newest execution events the overview shows. */
export const RECENT_EVENTS = 10;
/** Completed executions whose run times make `avg_processing_time`, newest first. */
const PROCESSING_SAMPLE = 1000;
/** Output kept per stream in a recent event: an overview of ten events must stay small. */
export const RECENT_OUTPUT_CHARS = 2000;

/** An execution's life as events; live output chunks are left out (the result events carry it). */
export const EXECUTION_EVENT_TYPES = [
  'execution_requested',
  'execution_started',
  'execution_completed',
  'execution_failed',
  'execution_timeout',
  'execution_cancelled',
] as const satisfies readonly EventType[];

/** Event types counted as errors in `error_rate`, by name as in the reference. */
const ERROR_TYPE = /failed|error|timeout/;

export interface EventStatistics {
  total_events: number;
  events_by_type: { event_type: EventType; count: number }[];
  events_by_service: { service_name: string; count: number }[];
  events_by_hour: { hour: string; count: number }[];
  top_users: { user_id: string; event_count: number }[];
  error_rate: number;
  avg_processing_time: number;
  start_time: string;
  end_time: string;
}

export interface DerivedCounts {
  succeeded: number;
  failed: number;
  timeout: number;
  cancelled: number;
  terminal_total: number;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Sums `count` by `key`, largest first (then by key, so equal counts keep one order). */
function countBy<K extends string>(tallies: readonly EventTally[], key: (tally: EventTally) => K) {
  const sums = new Map<K, number>();
  for (const tally of tallies) sums.set(key(tally), (sums.get(key(tally)) ?? 0) + tally.count);
  return [...sums].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
}

/** The reference's hour label, `2024-01-20 10:00` (UTC), from the start of the hour. */
const hourLabel = (hour: string) => `${hour.slice(0, 10)} ${hour.slice(11, 16)}`;

export function eventStatistics(
  userId: string,
  tallies: readonly EventTally[],
  window: { start: string; end: string },
  avgProcessingSeconds: number,
): EventStatistics {
  const total = tallies.reduce((sum, tally) => sum + tally.count, 0);
  const errors = tallies.filter((t) => ERROR_TYPE.test(t.event_type)).reduce((sum, t) => sum + t.count, 0);
  const hours = new Map<string, number>();
  for (const tally of tallies) hours.set(tally.hour, (hours.get(tally.hour) ?? 0) + tally.count);
  return {
    total_events: total,
    events_by_type: countBy(tallies, (t) => t.event_type).map(([event_type, count]) => ({
      event_type,
      count,
    })),
    events_by_service: countBy(tallies, (t) => t.service_name).map(([service_name, count]) => ({
      service_name,
      count,
    })),
    events_by_hour: [...hours]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([hour, count]) => ({ hour: hourLabel(hour), count })),
    top_users: total > 0 ? [{ user_id: userId, event_count: total }] : [],
    // A percentage, as in the reference.
    error_rate: total > 0 ? round2((errors / total) * 100) : 0,
    avg_processing_time: round2(avgProcessingSeconds),
    start_time: window.start,
    end_time: window.end,
  };
}

/** Outcomes of all the user's executions; `error` (the platform's fault) counts as failed. */
export function derivedCounts(byStatus: Partial<Record<ExecutionStatus, number>>): DerivedCounts {
  const succeeded = byStatus.completed ?? 0;
  const failed = (byStatus.failed ?? 0) + (byStatus.error ?? 0);
  const timeout = byStatus.timeout ?? 0;
  const cancelled = byStatus.cancelled ?? 0;
  return { succeeded, failed, timeout, cancelled, terminal_total: succeeded + failed + timeout + cancelled };
}

/** The event with each output stream cut to its beginning, marked truncated as the sandbox marks it. */
export function withShortOutput(event: DomainEvent): DomainEvent {
  if (!('stdout' in event)) return event;
  const short = { ...event };
  if (short.stdout.length > RECENT_OUTPUT_CHARS) {
    short.stdout = short.stdout.slice(0, RECENT_OUTPUT_CHARS);
    short.stdout_truncated = true;
  }
  if (short.stderr.length > RECENT_OUTPUT_CHARS) {
    short.stderr = short.stderr.slice(0, RECENT_OUTPUT_CHARS);
    short.stderr_truncated = true;
  }
  return short;
}

/** Mean seconds from submission to finish of the user's newest completed executions in the window. */
async function averageProcessingSeconds(platform: Platform, userId: string, since: string): Promise<number> {
  const { items } = await platform.store.executions.list(
    { userId, status: 'completed', createdFrom: since },
    { limit: PROCESSING_SAMPLE, skip: 0 },
  );
  const spans = items
    .map((e) => (Date.parse(e.finished_at ?? e.updated_at) - Date.parse(e.created_at)) / 1000)
    .filter((seconds) => Number.isFinite(seconds) && seconds >= 0);
  return spans.length > 0 ? spans.reduce((sum, s) => sum + s, 0) / spans.length : 0;
}

export async function userOverview(platform: Platform, user: UserRecord) {
  const now = platform.now();
  const start = new Date(now.getTime() - STATS_HOURS * 3_600_000).toISOString();
  const [tallies, avgSeconds, byStatus, recent] = await Promise.all([
    platform.store.events.tally({ userId: user.user_id, from: start }),
    averageProcessingSeconds(platform, user.user_id, start),
    platform.store.executions.countByStatus(user.user_id),
    platform.store.events.listByUser(user.user_id, {
      eventTypes: EXECUTION_EVENT_TYPES,
      limit: RECENT_EVENTS,
    }),
  ]);
  const response = toUserResponse(user);
  return {
    user: response,
    stats: eventStatistics(user.user_id, tallies, { start, end: now.toISOString() }, avgSeconds),
    derived_counts: derivedCounts(byStatus),
    rate_limit_summary: {
      bypass_rate_limit: response.bypass_rate_limit,
      global_multiplier: response.global_multiplier,
      has_custom_limits: response.has_custom_limits,
    },
    recent_events: recent.map((stored) => withShortOutput(stored.event)),
  };
}
