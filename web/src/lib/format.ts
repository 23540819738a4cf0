/** Small, locale-aware formatting helpers for run metrics and timestamps. */
import type { ResourceUsage } from './types';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** CPU time in milliseconds; older results only carry jiffies and the clock tick rate. */
export function cpuMilliseconds(usage: ResourceUsage): number {
  if (typeof usage.cpu_time_seconds === 'number') return usage.cpu_time_seconds * 1000;
  const hz = usage.clk_tck_hertz > 0 ? usage.clk_tck_hertz : 100;
  return (usage.cpu_time_jiffies / hz) * 1000;
}

export const peakMemoryMiB = (usage: ResourceUsage): number => usage.peak_memory_kb / 1024;

export function formatDateTime(iso: string | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** "just now", "5 min ago", "3 h ago", then a date. */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 7) return `${days} d ago`;
  return new Date(then).toLocaleDateString();
}

export const shortId = (id: string): string => id.slice(0, 8);
