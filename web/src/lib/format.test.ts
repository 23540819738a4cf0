import { describe, expect, it } from 'vitest';
import { cpuMilliseconds, formatBytes, formatMs, formatRelative, peakMemoryMiB } from './format';

const usage = {
  execution_time_wall_seconds: 0.5,
  cpu_time_jiffies: 12,
  clk_tck_hertz: 100,
  peak_memory_kb: 10240,
};

describe('format', () => {
  it('prefers exact CPU seconds and falls back to jiffies / clock ticks', () => {
    expect(cpuMilliseconds({ ...usage, cpu_time_seconds: 0.0425 })).toBeCloseTo(42.5);
    expect(cpuMilliseconds(usage)).toBeCloseTo(120);
  });

  it('reports peak memory in MiB', () => {
    expect(peakMemoryMiB(usage)).toBe(10);
  });

  it('formats durations and sizes', () => {
    expect(formatMs(null)).toBe('—');
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(2500)).toBe('2.50 s');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
  });

  it('describes recent times relative to now', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    expect(formatRelative('2025-01-01T11:59:50Z', now)).toBe('just now');
    expect(formatRelative('2025-01-01T11:50:00Z', now)).toBe('10 min ago');
    expect(formatRelative('2025-01-01T09:00:00Z', now)).toBe('3 h ago');
  });
});
