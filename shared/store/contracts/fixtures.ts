import type { ApiKeyRecord } from '../../domain/api-key';
/** Record builders for the contract suites: complete, valid records with overridable fields. */

import { afterEach, beforeEach } from 'vitest';
import { type ExecutionRecord, newExecution } from '../../domain/execution';
import type { NotificationRecord } from '../../domain/notification';
import type { SavedScriptRecord } from '../../domain/saved-script';
import type { SessionRecord, UserRecord } from '../../domain/user';
import { defaultSettings, type SettingsRevision, type UserSettingsRecord } from '../../domain/user-settings';
import type { DomainEvent, EventOf } from '../../events/schemas';
import type { DeadLetter, Repositories } from '../ports';

/** Opens a fresh store offering at least the repositories `K` (by default all of them). */
export type MakeRepositories<K extends keyof Repositories = keyof Repositories> = () => Promise<
  Pick<Repositories, K | 'close'>
>;

/** A fresh store for every test, closed afterwards; call inside a `describe`. */
export function useRepositories<K extends keyof Repositories>(
  make: MakeRepositories<K>,
): () => Pick<Repositories, K | 'close'> {
  let repositories: Pick<Repositories, K | 'close'> | undefined;
  beforeEach(async () => {
    repositories = await make();
  });
  afterEach(async () => {
    await repositories?.close();
    repositories = undefined;
  });
  return () => {
    if (!repositories) throw new Error('repositories are only available inside a test');
    return repositories;
  };
}

/** ISO timestamp `seconds` after a fixed instant, so orderings are explicit. */
export const at = (seconds: number): string => new Date(Date.UTC(2025, 0, 1) + seconds * 1000).toISOString();

export const aUser = (overrides: Partial<UserRecord> = {}): UserRecord => ({
  user_id: 'user-1',
  username: 'ada',
  email: 'ada@example.com',
  role: 'user',
  is_active: true,
  is_superuser: false,
  password_hash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
  created_at: at(0),
  updated_at: at(0),
  ...overrides,
});

export const aSession = (overrides: Partial<SessionRecord> = {}): SessionRecord => ({
  token_hash: 'a'.repeat(64),
  user_id: 'user-1',
  username: 'ada',
  role: 'user',
  created_at: at(0),
  expires_at: at(3600),
  ...overrides,
});

export const anExecution = (overrides: Partial<ExecutionRecord> = {}): ExecutionRecord => ({
  ...newExecution({
    execution_id: 'exec-1',
    user_id: 'user-1',
    script: 'print("hi")\n',
    stdin: '',
    lang: 'python',
    lang_version: '3.12',
    priority: 'normal',
    created_at: at(0),
  }),
  ...overrides,
});

export const aNotification = (overrides: Partial<NotificationRecord> = {}): NotificationRecord => ({
  notification_id: 'notif-1',
  user_id: 'user-1',
  channel: 'in_app',
  status: 'delivered',
  subject: 'Execution completed',
  body: 'Your python script finished with exit code 0.',
  action_url: '/editor?execution=exec-1',
  severity: 'medium',
  tags: ['execution', 'completed'],
  created_at: at(0),
  read_at: null,
  source_event_id: 'event-1',
  ...overrides,
});

export const anApiKey = (overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  key_id: 'key-1',
  user_id: 'user-1',
  name: 'CI pipeline',
  prefix: 'i8c_abcdef',
  key_hash: 'hash-1',
  scopes: ['executions:read', 'executions:write'],
  created_at: at(0),
  expires_at: null,
  last_used_at: null,
  ...overrides,
});

export const aSavedScript = (overrides: Partial<SavedScriptRecord> = {}): SavedScriptRecord => ({
  script_id: 'script-1',
  user_id: 'user-1',
  name: 'hello.py',
  script: 'print("hello")\n',
  lang: 'python',
  lang_version: '3.12',
  description: null,
  created_at: at(0),
  updated_at: at(0),
  ...overrides,
});

/** Revision `version` of user-1's settings, made `version` minutes in, choosing the theme. */
export const aSettingsRevision = (
  version: number,
  overrides: { user_id?: string; changed_at?: string; settings?: Partial<UserSettingsRecord> } = {},
): SettingsRevision => {
  const userId = overrides.user_id ?? 'user-1';
  const changedAt = overrides.changed_at ?? at(version * 60);
  return {
    user_id: userId,
    version,
    changed_at: changedAt,
    reason: null,
    changes: [{ field: '/theme', old_value: 'auto', new_value: version % 2 === 0 ? 'light' : 'dark' }],
    settings: {
      ...defaultSettings(userId, at(0)),
      theme: version % 2 === 0 ? 'light' : 'dark',
      version,
      updated_at: changedAt,
      ...overrides.settings,
    },
  };
};

export const anOutputEvent = (
  overrides: Partial<EventOf<'execution_output'>> = {},
): EventOf<'execution_output'> => ({
  event_id: 'event-1',
  event_version: '1.0',
  timestamp: at(0),
  aggregate_id: 'exec-1',
  metadata: { service_name: 'run-pod', service_version: '1.0.0' },
  event_type: 'execution_output',
  execution_id: 'exec-1',
  stream: 'stdout',
  data: 'hello\n',
  ...overrides,
});

export const aCompletedEvent = (
  overrides: Partial<EventOf<'execution_completed'>> = {},
): EventOf<'execution_completed'> => ({
  event_id: 'event-completed',
  event_version: '1.0',
  timestamp: at(5),
  aggregate_id: 'exec-1',
  metadata: { service_name: 'monitor', service_version: '1.0.0', user_id: 'user-1' },
  event_type: 'execution_completed',
  execution_id: 'exec-1',
  exit_code: 0,
  finished_at: at(5),
  stdout: 'hello\n',
  stderr: '',
  stdout_truncated: false,
  stderr_truncated: false,
  stdout_bytes: 6,
  stderr_bytes: 0,
  resource_usage: {
    execution_time_wall_seconds: 0.123456789,
    cpu_time_jiffies: 7,
    clk_tck_hertz: 100,
    peak_memory_kb: 10240,
    cpu_time_seconds: 0.07,
  },
  ...overrides,
});

export const aDeadLetter = (overrides: Partial<DeadLetter> = {}): DeadLetter => {
  const event: DomainEvent = anOutputEvent();
  return {
    dead_letter_id: 'dl-1',
    subscriber: 'store-result',
    event,
    raw: null,
    event_type: event.event_type,
    event_id: event.event_id,
    error: 'HTTP 500: database unavailable',
    attempts: 5,
    created_at: at(0),
    ...overrides,
  };
};
