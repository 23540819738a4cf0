import { describe, expect, it } from 'vitest';
import { passesFilters } from './notification-subscription';
import { canonicalTimeZone, instantOf, type QuietHours, quietHoursEnd } from './quiet-hours';

const quiet = (start: string, end: string, timezone = 'UTC', enabled = true): QuietHours => ({
  quiet_hours_enabled: enabled,
  quiet_hours_start: start,
  quiet_hours_end: end,
  timezone,
});
const at = (iso: string) => new Date(iso);
const endOf = (now: string, hours: QuietHours) => quietHoursEnd(at(now), hours)?.toISOString() ?? null;

describe('quietHoursEnd', () => {
  it('is null outside the quiet hours and the end of them inside, start included and end excluded', () => {
    const office = quiet('09:00', '17:00');
    expect(endOf('2025-06-02T08:59:00Z', office)).toBeNull();
    expect(endOf('2025-06-02T09:00:00Z', office)).toBe('2025-06-02T17:00:00.000Z');
    expect(endOf('2025-06-02T16:59:59Z', office)).toBe('2025-06-02T17:00:00.000Z');
    expect(endOf('2025-06-02T17:00:00Z', office)).toBeNull();
  });

  it('spans midnight when the start is later than the end', () => {
    const night = quiet('22:00', '07:00');
    expect(endOf('2025-06-02T21:59:00Z', night)).toBeNull();
    expect(endOf('2025-06-02T22:00:00Z', night)).toBe('2025-06-03T07:00:00.000Z');
    expect(endOf('2025-06-02T23:59:00Z', night)).toBe('2025-06-03T07:00:00.000Z');
    expect(endOf('2025-06-03T03:00:00Z', night)).toBe('2025-06-03T07:00:00.000Z');
    expect(endOf('2025-06-03T07:00:00Z', night)).toBeNull();
    // Across a month and a year end.
    expect(endOf('2025-12-31T23:00:00Z', night)).toBe('2026-01-01T07:00:00.000Z');
  });

  it("reads the times on the clock of the subscription's time zone", () => {
    const berlinNight = quiet('22:00', '07:00', 'Europe/Berlin');
    // 21:30 UTC in summer is 23:30 in Berlin (UTC+2): quiet until 07:00 Berlin = 05:00 UTC.
    expect(endOf('2025-06-02T21:30:00Z', berlinNight)).toBe('2025-06-03T05:00:00.000Z');
    // 20:30 UTC is 22:30 in Berlin in summer, but 21:30 in winter (UTC+1): not quiet yet.
    expect(endOf('2025-06-02T20:30:00Z', berlinNight)).toBe('2025-06-03T05:00:00.000Z');
    expect(endOf('2025-01-15T20:30:00Z', berlinNight)).toBeNull();
    expect(endOf('2025-01-15T21:30:00Z', berlinNight)).toBe('2025-01-16T06:00:00.000Z');
    // A zone west of UTC, past midnight UTC but still the evening before there.
    expect(endOf('2025-06-03T03:00:00Z', quiet('22:00', '06:30', 'America/New_York'))).toBe(
      '2025-06-03T10:30:00.000Z',
    );
  });

  it('ends at the right instant across a daylight-saving change', () => {
    // Berlin switches to summer time at 01:00 UTC on 2025-03-30: 07:00 that morning is 05:00 UTC.
    expect(endOf('2025-03-29T23:00:00Z', quiet('22:00', '07:00', 'Europe/Berlin'))).toBe(
      '2025-03-30T05:00:00.000Z',
    );
    // And back at 01:00 UTC on 2025-10-26: 07:00 that morning is 06:00 UTC.
    expect(endOf('2025-10-25T22:00:00Z', quiet('22:00', '07:00', 'Europe/Berlin'))).toBe(
      '2025-10-26T06:00:00.000Z',
    );
    // 02:30 does not exist on the spring-forward night; waiting ends an hour later on the clock.
    expect(endOf('2025-03-30T00:30:00Z', quiet('01:00', '02:30', 'Europe/Berlin'))).toBe(
      '2025-03-30T01:30:00.000Z',
    );
  });

  it('is null when quiet hours are off, incomplete or of no length', () => {
    expect(endOf('2025-06-02T23:00:00Z', quiet('22:00', '07:00', 'UTC', false))).toBeNull();
    expect(endOf('2025-06-02T23:00:00Z', { ...quiet('22:00', '07:00'), quiet_hours_end: null })).toBeNull();
    expect(endOf('2025-06-02T08:00:00Z', quiet('08:00', '08:00'))).toBeNull();
  });

  it('reads a time zone the runtime does not know as UTC instead of failing', () => {
    expect(endOf('2025-06-02T23:00:00Z', quiet('22:00', '07:00', 'Nowhere/Atlantis'))).toBe(
      '2025-06-03T07:00:00.000Z',
    );
  });
});

describe('time zones', () => {
  it('canonicalises known zones and rejects unknown ones', () => {
    expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('utc')).toBe('UTC');
    expect(canonicalTimeZone('Mars/Base')).toBeNull();
  });

  it('finds the instant a wall clock shows', () => {
    expect(
      instantOf({ year: 2025, month: 7, day: 1, hour: 12, minute: 0 }, 'Asia/Kolkata').toISOString(),
    ).toBe('2025-07-01T06:30:00.000Z');
  });
});

describe('passesFilters', () => {
  const notification = { severity: 'high' as const, tags: ['execution', 'failed', 'exec:1'] };
  const filters = (patch: Partial<Parameters<typeof passesFilters>[0]>) => ({
    severities: [],
    include_tags: [],
    exclude_tags: [],
    ...patch,
  });

  it('lets everything through without filters', () => {
    expect(passesFilters(filters({}), notification)).toBe(true);
  });

  it('keeps only the listed severities', () => {
    expect(passesFilters(filters({ severities: ['high', 'urgent'] }), notification)).toBe(true);
    expect(passesFilters(filters({ severities: ['urgent'] }), notification)).toBe(false);
  });

  it('needs one included tag, and no excluded tag, which wins over an included one', () => {
    expect(passesFilters(filters({ include_tags: ['completed', 'failed'] }), notification)).toBe(true);
    expect(passesFilters(filters({ include_tags: ['completed'] }), notification)).toBe(false);
    expect(passesFilters(filters({ exclude_tags: ['failed'] }), notification)).toBe(false);
    expect(
      passesFilters(filters({ include_tags: ['execution'], exclude_tags: ['failed'] }), notification),
    ).toBe(false);
    expect(passesFilters(filters({ exclude_tags: ['timeout'] }), notification)).toBe(true);
  });
});
