/** Wire shapes of the /api/v1 endpoints the SPA uses. */

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

const TERMINAL: ReadonlySet<string> = new Set(['completed', 'failed', 'timeout', 'cancelled', 'error']);
export const isTerminalStatus = (status: string): boolean => TERMINAL.has(status);

export type ErrorType = 'script_error' | 'resource_limit' | 'timeout' | 'system_error' | 'permission_denied';

export interface UserResponse {
  user_id: string;
  username: string;
  email: string;
  role: string;
  is_active?: boolean;
  is_superuser?: boolean;
  created_at?: string;
  updated_at?: string;
}

export interface LoginResponse {
  message: string;
  username: string;
  role: string;
  csrf_token: string;
}

export interface RuntimeInfo {
  versions: string[];
  file_ext: string;
}

export interface ResourceLimits {
  cpu_limit: string;
  memory_limit: string;
  cpu_request: string;
  memory_request: string;
  execution_timeout: number;
  supported_runtimes: Record<string, RuntimeInfo>;
}

export interface ResourceUsage {
  execution_time_wall_seconds: number;
  cpu_time_seconds?: number;
  cpu_time_jiffies: number;
  clk_tck_hertz: number;
  peak_memory_kb: number;
}

export interface OutputSummary {
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  stdout_bytes: number;
  stderr_bytes: number;
}

export interface ExecutionResult {
  execution_id: string;
  status: ExecutionStatus;
  stdout: string | null;
  stderr: string | null;
  lang: string;
  lang_version: string;
  exit_code: number | null;
  error_type: ErrorType | null;
  error_message: string | null;
  resource_usage: ResourceUsage | null;
  output: OutputSummary | null;
  script?: string;
  created_at?: string;
  updated_at?: string;
  queued_ms?: number | null;
  start_ms?: number | null;
  run_ms?: number | null;
  priority?: string;
}

export interface ExecuteResponse {
  execution_id: string;
  status: ExecutionStatus;
}

export interface CancelResponse {
  execution_id: string;
  status: 'cancellation_requested' | 'already_cancelled';
  message: string;
  event_id: string;
}

export interface ExecutionPage {
  executions: ExecutionResult[];
  total: number;
  limit: number;
  skip: number;
  has_more: boolean;
}

export interface AppNotification {
  notification_id: string;
  channel: string;
  status: string;
  subject: string;
  body: string;
  action_url: string | null;
  created_at: string;
  read_at: string | null;
  severity: 'low' | 'medium' | 'high' | 'urgent' | string;
  tags: string[];
}

export interface NotificationPage {
  notifications: AppNotification[];
  total: number;
  unread_count: number;
}

/** One frame of GET /events/executions/{id}. */
export interface ExecutionEvent {
  event_type: string;
  execution_id: string;
  timestamp?: string;
  event_id?: string;
  status?: ExecutionStatus | null;
  result?: ExecutionResult | null;
  stream?: 'stdout' | 'stderr';
  data?: string;
}

export interface SavedScript {
  script_id: string;
  name: string;
  script: string;
  lang: string;
  lang_version: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export interface SavedScriptPage {
  scripts: SavedScript[];
  total: number;
  limit: number;
  offset: number;
}

export type ThemeChoice = 'light' | 'dark' | 'auto';

export interface EditorSettings {
  font_size: number;
  tab_size: number;
  use_tabs: boolean;
  word_wrap: boolean;
  show_line_numbers: boolean;
}

export interface NotificationSettings {
  execution_completed: boolean;
  execution_failed: boolean;
  system_updates: boolean;
  security_alerts: boolean;
  channels: string[];
}

export interface UserSettings {
  user_id: string;
  theme: ThemeChoice;
  timezone: string;
  date_format: string;
  time_format: string;
  notifications: NotificationSettings;
  editor: EditorSettings;
  custom_settings: Record<string, unknown>;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface SettingsHistoryEntry {
  timestamp: string;
  event_type: string;
  field: string;
  old_value: unknown;
  new_value: unknown;
  reason: string | null;
}

export const USER_ROLES = ['user', 'admin', 'moderator'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** `UserResponse` as the admin user operations return it: every field present. */
export interface AdminUser extends Required<Omit<UserResponse, 'role'>> {
  role: UserRole;
}

export interface AdminUserPage {
  users: AdminUser[];
  total: number;
  offset: number;
  limit: number;
}

export interface DeletedUser {
  user_deleted: boolean;
  executions: number;
  saved_scripts: number;
  notifications: number;
  user_settings: number;
  events: number;
  sagas: number;
}

export interface AdminUserOverview {
  user: AdminUser;
  stats: {
    total_events: number;
    events_by_type: { event_type: string; count: number }[];
    error_rate: number;
    avg_processing_time: number;
  };
  derived_counts: {
    succeeded: number;
    failed: number;
    timeout: number;
    cancelled: number;
    terminal_total: number;
  };
  recent_events: { event_id: string; event_type: string; timestamp: string; execution_id?: string }[];
}

export type NotificationChannel = 'in_app' | 'webhook' | 'slack';
export type Severity = 'low' | 'medium' | 'high' | 'urgent';

/** `NotificationSubscription`, plus the webhook's signing secret (ours). */
export interface NotificationSubscription {
  user_id: string;
  channel: NotificationChannel;
  severities: Severity[];
  include_tags: string[];
  exclude_tags: string[];
  enabled: boolean;
  webhook_url: string | null;
  slack_webhook: string | null;
  quiet_hours_enabled: boolean;
  quiet_hours_start: string | null;
  quiet_hours_end: string | null;
  timezone: string;
  batch_interval_minutes: number;
  webhook_secret: string | null;
  created_at: string;
  updated_at: string;
}

export interface DeliveryAttempt {
  attempt: number;
  target: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  outcome: 'in_progress' | 'succeeded' | 'failed' | 'abandoned';
  status_code: number | null;
  error: string | null;
}

/** One entry of GET /notifications/deliveries. */
export interface DeliveryLogEntry {
  delivery_id: string;
  notification_id: string;
  channel: 'webhook' | 'slack';
  status: 'pending' | 'delivered' | 'failed' | 'cancelled';
  subject: string;
  severity: Severity;
  tags: string[];
  next_attempt_at: string | null;
  held_for: 'quiet_hours' | 'throttle' | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
  attempts: DeliveryAttempt[];
}

export interface DeliveryLogPage {
  deliveries: DeliveryLogEntry[];
  total: number;
  limit: number;
  offset: number;
}
