/**
 * `AdminUserOverview`: the account, the statistics of its events over the last day, its executions by
 * outcome and its newest execution events. Counting is the store's; this shapes the answer.
 */
import { statisticsOfLastHours } from '../../shared/domain/event-statistics';
import type { ExecutionStatus } from '../../shared/domain/execution';
import { toUserResponse, type UserRecord } from '../../shared/domain/user';
import type { DomainEvent, EventType } from '../../shared/events/schemas';
import type { Platform } from '../../shared/platform/platform';

/** The window of `stats`, as in the reference. */
export const STATS_HOURS = 24;
/** How many of the newest execution events the overview shows. */
export const RECENT_EVENTS = 10;
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

export interface DerivedCounts {
  succeeded: number;
  failed: number;
  timeout: number;
  cancelled: number;
  terminal_total: number;
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

export async function userOverview(platform: Platform, user: UserRecord) {
  const [stats, byStatus, recent] = await Promise.all([
    statisticsOfLastHours(platform, STATS_HOURS, { userId: user.user_id }),
    platform.store.executions.countByStatus(user.user_id),
    platform.store.events.listByUser(user.user_id, {
      eventTypes: EXECUTION_EVENT_TYPES,
      limit: RECENT_EVENTS,
    }),
  ]);
  const response = toUserResponse(user);
  return {
    user: response,
    stats,
    derived_counts: derivedCounts(byStatus),
    rate_limit_summary: {
      bypass_rate_limit: response.bypass_rate_limit,
      global_multiplier: response.global_multiplier,
      has_custom_limits: response.has_custom_limits,
    },
    recent_events: recent.map((stored) => withShortOutput(stored.event)),
  };
}
