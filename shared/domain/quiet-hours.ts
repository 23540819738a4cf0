/**
 * Quiet hours: a daily span of wall-clock time in the user's time zone during which deliveries wait.
 * Only the built-in Intl time-zone data is used: an instant's wall clock comes from formatToParts, and a
 * wall-clock time's instant is found by correcting a guess with the zone's offset (twice, which settles
 * it on both sides of a daylight-saving change).
 */
import { TIME_OF_DAY } from './notification-subscription';

export interface QuietHours {
  quiet_hours_enabled: boolean;
  quiet_hours_start: string | null;
  quiet_hours_end: string | null;
  timezone: string;
}

/** The zone's canonical name (`utc` → `UTC`), or null when the runtime does not know it. */
export function canonicalTimeZone(zone: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(instant: Date, timeZone: string): WallClock {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(instant)) parts[part.type] = Number(part.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
  };
}

/** How far the zone's clock is ahead of UTC at `ms`, to the minute. */
function offsetMs(ms: number, timeZone: string): number {
  const wall = wallClock(new Date(ms), timeZone);
  const minuteStart = Math.floor(ms / 60_000) * 60_000;
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute) - minuteStart;
}

/**
 * The instant the zone's clock shows `wall`. A time skipped by a daylight-saving change maps to the
 * instant one offset step later (02:30 on a spring-forward night is 03:30); a repeated one to either.
 */
export function instantOf(wall: WallClock, timeZone: string): Date {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  const first = asUtc - offsetMs(asUtc, timeZone);
  return new Date(asUtc - offsetMs(first, timeZone));
}

const minutesOf = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/**
 * When the quiet hours around `now` end, or null when `now` is not within them (or they are off, or
 * start and end are the same time, which is no span at all). The start is inside the span, the end is not.
 */
export function quietHoursEnd(now: Date, quiet: QuietHours): Date | null {
  const { quiet_hours_start: start, quiet_hours_end: end } = quiet;
  if (!quiet.quiet_hours_enabled || !start || !end || start === end) return null;
  if (!TIME_OF_DAY.test(start) || !TIME_OF_DAY.test(end)) return null;
  // A zone the runtime forgot since it was saved is read as UTC rather than failing every delivery.
  const zone = canonicalTimeZone(quiet.timezone) ?? 'UTC';
  const wall = wallClock(now, zone);
  const current = wall.hour * 60 + wall.minute;
  const from = minutesOf(start);
  const until = minutesOf(end);
  const crossesMidnight = from > until;
  const inside = crossesMidnight ? current >= from || current < until : current >= from && current < until;
  if (!inside) return null;
  // Past the start of a span that crosses midnight, it ends tomorrow; otherwise today.
  const day = new Date(
    Date.UTC(wall.year, wall.month - 1, wall.day + (crossesMidnight && current >= from ? 1 : 0)),
  );
  const ends = instantOf(
    {
      year: day.getUTCFullYear(),
      month: day.getUTCMonth() + 1,
      day: day.getUTCDate(),
      hour: Math.floor(until / 60),
      minute: until % 60,
    },
    zone,
  );
  // In an hour the clock repeats, the end may map to its first pass, already gone: nothing to wait for.
  return ends.getTime() > now.getTime() ? ends : null;
}
