/** The system settings under /admin/settings. */
import { request } from './api';

export interface SystemSettings {
  max_timeout_seconds: number;
  memory_limit: string;
  cpu_limit: string;
  max_concurrent_executions: number;
  password_min_length: number;
  session_timeout_minutes: number;
  max_login_attempts: number;
  lockout_duration_minutes: number;
  metrics_retention_days: number;
  log_level: string;
  enable_tracing: boolean;
  sampling_rate: number;
}

export type EditableSetting = keyof Omit<
  SystemSettings,
  'metrics_retention_days' | 'log_level' | 'enable_tracing' | 'sampling_rate'
>;

export const getSettings = () => request<SystemSettings>('/admin/settings/');

export const saveSettings = (change: Partial<SystemSettings>) =>
  request<SystemSettings>('/admin/settings/', { method: 'PUT', json: change });

export const resetSettings = () => request<SystemSettings>('/admin/settings/reset', { method: 'POST' });
