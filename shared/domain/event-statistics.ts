/**
 * Statistics of stored events over a window, as the admin views show them: totals by type, service,
 * hour and user, the share of error events and the mean run time of completed executions.
 * Counting is the store's (`EventStore.tally`); this shapes the answer.
 */
import * as v from 'valibot';
import { EVENT_TYPES } from '../events/schemas';
import type { Platform } from '../platform/platform';
import type { EventFilter, EventTally } from '../store/ports';

/** Event types counted as errors in `error_rate`, by name as in the reference. */
const ERROR_TYPE = /failed|error|timeout/;
/** Completed executions whose run times make `avg_processing_time`, newest first. */
const PROCESSING_SAMPLE = 1000;
/** Users listed in `top_users`. */
export const TOP_USERS = 10;

const count = v.pipe(v.number(), v.integer());
const tally = <K extends string>(key: K) => v.array(v.object({ [key]: v.string(), count }));

export const EventStatisticsSchema = v.object({
  total_events: count,
  events_by_type: v.array(v.object({ event_type: v.picklist(EVENT_TYPES), count })),
  events_by_service: tally('service_name'),
  events_by_hour: tally('hour'),
  top_users: v.array(v.object({ user_id: v.string(), event_count: count })),
  /** Percent of the events whose type names a failure, error or timeout. */
  error_rate: v.number(),
  /** Mean seconds from submission to finish of completed executions, in seconds. */
  avg_processing_time: v.number(),
  start_time: v.string(),
  end_time: v.string(),
});
export type EventStatistics = v.InferOutput<typeof EventStatisticsSchema>;

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Sums `count` by `key`, largest first (then by key, so equal counts keep one order). */
function countBy<K extends string>(tallies: readonly EventTally[], key: (tally: EventTally) => K | null) {
  const sums = new Map<K, number>();
  for (const tally of tallies) {
    const k = key(tally);
    if (k !== null) sums.set(k, (sums.get(k) ?? 0) + tally.count);
  }
  return [...sums].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
}

/** The reference's hour label, `2024-01-20 10:00` (UTC), from the start of the hour. */
const hourLabel = (hour: string) => `${hour.slice(0, 10)} ${hour.slice(11, 16)}`;

export function eventStatistics(
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
    top_users: countBy(tallies, (t) => t.user_id)
      .slice(0, TOP_USERS)
      .map(([user_id, event_count]) => ({ user_id, event_count })),
    // A percentage, as in the reference.
    error_rate: total > 0 ? round2((errors / total) * 100) : 0,
    avg_processing_time: round2(avgProcessingSeconds),
    start_time: window.start,
    end_time: window.end,
  };
}

/** Mean seconds from submission to finish of the newest completed executions created since `since`. */
async function averageProcessingSeconds(
  platform: Platform,
  since: string,
  userId: string | undefined,
): Promise<number> {
  const { items } = await platform.store.executions.list(
    { userId, status: 'completed', createdFrom: since },
    { limit: PROCESSING_SAMPLE, skip: 0 },
  );
  const spans = items
    .map((e) => (Date.parse(e.finished_at ?? e.updated_at) - Date.parse(e.created_at)) / 1000)
    .filter((seconds) => Number.isFinite(seconds) && seconds >= 0);
  return spans.length > 0 ? spans.reduce((sum, s) => sum + s, 0) / spans.length : 0;
}

/** Statistics of the last `hours` hours, of one user's events when `filter.userId` is given. */
export async function statisticsOfLastHours(
  platform: Platform,
  hours: number,
  filter: Pick<EventFilter, 'userId'> = {},
): Promise<EventStatistics> {
  const now = platform.now();
  const start = new Date(now.getTime() - hours * 3_600_000).toISOString();
  const [tallies, avgSeconds] = await Promise.all([
    platform.store.events.tally({ ...filter, from: start }),
    averageProcessingSeconds(platform, start, filter.userId),
  ]);
  return eventStatistics(tallies, { start, end: now.toISOString() }, avgSeconds);
}
