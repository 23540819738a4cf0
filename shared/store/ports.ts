import type { ApiKeyRecord } from '../domain/api-key';
import type { AuditEntry, AuditTargetType } from '../domain/audit';
/**
 * Persistence ports. Each repository speaks the domain's language; adapters (embedded SQLite,
 * MongoDB) implement them and one contract suite per port runs against every adapter.
 */
import type { ExecutionRecord, ExecutionStatus, QueuePriority } from '../domain/execution';
import type { NotificationChannel, NotificationRecord, NotificationStatus } from '../domain/notification';
import type { DeliveryAttempt, DeliveryRecord, ExternalChannel } from '../domain/notification-delivery';
import type { SubscriptionRecord } from '../domain/notification-subscription';
import type { SavedScriptPatch, SavedScriptRecord } from '../domain/saved-script';
import type { SystemSettings } from '../domain/system-settings';
import type { SessionRecord, UserRecord, UserRole } from '../domain/user';
import type { SettingsRevision, UserSettingsRecord } from '../domain/user-settings';
import type { DomainEvent, EventType } from '../events/schemas';

export class ConflictError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface UserFilter {
  /** Part of the username or email, in any letter case; matched literally (no wildcards). */
  search?: string;
  role?: UserRole;
  isActive?: boolean;
}

export interface UserRepository {
  /** Throws ConflictError when the username or email is taken. */
  create(user: UserRecord): Promise<void>;
  findById(userId: string): Promise<UserRecord | null>;
  findByUsername(username: string): Promise<UserRecord | null>;
  update(userId: string, patch: Partial<Omit<UserRecord, 'user_id'>>): Promise<UserRecord | null>;
  count(): Promise<number>;
  /** Users matching every given filter, by username (any letter case, then id), with the total. */
  list(filter: UserFilter, paging: { limit: number; offset: number }): Promise<Page<UserRecord>>;
  /** Deletes the user record alone; false when there was none. */
  delete(userId: string): Promise<boolean>;
}

export interface SessionRepository {
  create(session: SessionRecord): Promise<void>;
  /** Returns only sessions that have not expired. */
  find(tokenHash: string, now: Date): Promise<SessionRecord | null>;
  delete(tokenHash: string): Promise<void>;
  deleteForUser(userId: string): Promise<void>;
}

export interface ExecutionFilter {
  userId?: string;
  status?: ExecutionStatus;
  /** Any of these statuses. */
  statuses?: readonly ExecutionStatus[];
  priority?: QueuePriority;
  lang?: string;
  /** Inclusive bounds on `created_at`. */
  createdFrom?: string;
  createdTo?: string;
}

export interface ExecutionRepository {
  create(execution: ExecutionRecord): Promise<void>;
  get(executionId: string): Promise<ExecutionRecord | null>;
  /**
   * Applies `patch` only when the current status is one of `from`; returns the updated record,
   * or null when the guard did not match (the transition already happened or is not allowed).
   */
  transition(
    executionId: string,
    from: readonly ExecutionStatus[],
    patch: Partial<Omit<ExecutionRecord, 'execution_id' | 'user_id'>>,
  ): Promise<ExecutionRecord | null>;
  /** Newest first (created_at, then id), stable across pages. */
  list(filter: ExecutionFilter, paging: { limit: number; skip: number }): Promise<Page<ExecutionRecord>>;
  /** How many executions the user has in each status; statuses they have none in are left out. */
  countByStatus(userId: string): Promise<Partial<Record<ExecutionStatus, number>>>;
  delete(executionId: string): Promise<boolean>;
  /** Deletes every execution of the user; returns the ids it deleted. */
  deleteForUser(userId: string): Promise<string[]>;
}

export interface NotificationFilter {
  status?: NotificationStatus;
  includeTags?: string[];
  excludeTags?: string[];
  tagPrefix?: string;
}

export interface NotificationRepository {
  /** Idempotent on `source_event_id` + `user_id`: returns false when it already exists. */
  create(notification: NotificationRecord): Promise<boolean>;
  get(notificationId: string): Promise<NotificationRecord | null>;
  /** Newest first. */
  list(
    userId: string,
    filter: NotificationFilter,
    paging: { limit: number; offset: number },
  ): Promise<Page<NotificationRecord>>;
  countUnread(userId: string): Promise<number>;
  markRead(userId: string, notificationId: string, at: string): Promise<boolean>;
  markAllRead(userId: string, at: string): Promise<number>;
  delete(userId: string, notificationId: string): Promise<boolean>;
  /** Deletes every notification of the user; returns how many. */
  deleteForUser(userId: string): Promise<number>;
}

export interface NotificationSubscriptionRepository {
  /** The user's stored subscriptions; channels they never set are absent. */
  list(userId: string): Promise<SubscriptionRecord[]>;
  get(userId: string, channel: NotificationChannel): Promise<SubscriptionRecord | null>;
  /** Stores the subscription as the user's one for its channel, replacing any earlier one. */
  put(subscription: SubscriptionRecord): Promise<void>;
  /** Deletes every subscription of the user; returns how many. */
  deleteForUser(userId: string): Promise<number>;
}

export interface NotificationDeliveryRepository {
  /** Idempotent on `delivery_id`: returns false when it already exists. */
  create(delivery: DeliveryRecord): Promise<boolean>;
  get(deliveryId: string): Promise<DeliveryRecord | null>;
  /** Replaces the stored delivery (its status, attempts, next attempt, last result). */
  update(delivery: DeliveryRecord): Promise<void>;
  /** Pending deliveries whose next attempt is due at or before `now`, the earliest first. */
  listDue(now: string, limit: number): Promise<DeliveryRecord[]>;
  /** The earliest next attempt of any pending delivery; null when none is pending. */
  nextDue(): Promise<string | null>;
  /** One user's deliveries, newest first (created_at, then id), those of `channel` only when given. */
  listForUser(
    userId: string,
    filter: { channel?: ExternalChannel },
    paging: { limit: number; offset: number },
  ): Promise<Page<DeliveryRecord>>;
  /**
   * Claims attempt number `attempt.attempt` of its delivery by storing it: true for exactly one of any
   * number of racing claims of the same number, false for the rest.
   */
  beginAttempt(attempt: DeliveryAttempt): Promise<boolean>;
  /** Replaces a claimed attempt with its outcome. */
  finishAttempt(attempt: DeliveryAttempt): Promise<void>;
  getAttempt(deliveryId: string, attempt: number): Promise<DeliveryAttempt | null>;
  /** Every attempt of the given deliveries, by delivery (in the order given) and then attempt number. */
  attemptsOf(deliveryIds: readonly string[]): Promise<DeliveryAttempt[]>;
  /** Start times of the user's attempts on `channel` at or after `since`, oldest first. */
  attemptTimesSince(userId: string, channel: ExternalChannel, since: string): Promise<string[]>;
  /** Deletes the user's deliveries and their attempts; returns how many deliveries. */
  deleteForUser(userId: string): Promise<number>;
}

export interface SavedScriptRepository {
  /** Throws ConflictError when the id is taken. */
  create(script: SavedScriptRecord): Promise<void>;
  get(scriptId: string): Promise<SavedScriptRecord | null>;
  /** One user's scripts, most recently changed first (then by id), stable across pages. */
  list(userId: string, paging: { limit: number; offset: number }): Promise<Page<SavedScriptRecord>>;
  /** Changes the owner's script and returns it; null when it does not exist or is someone else's. */
  update(userId: string, scriptId: string, patch: SavedScriptPatch): Promise<SavedScriptRecord | null>;
  /** Deletes the owner's script; false when it does not exist or is someone else's. */
  delete(userId: string, scriptId: string): Promise<boolean>;
  /** Deletes every script of the user; returns how many. */
  deleteForUser(userId: string): Promise<number>;
}

export interface UserSettingsRepository {
  /** The user's settings as last saved; null when they never changed any. */
  get(userId: string): Promise<UserSettingsRecord | null>;
  /**
   * Makes the revision's settings the user's and adds it to their history, both or neither. Succeeds only
   * when `revision.version` is one more than the stored version (0 when none), so of racing changes
   * exactly one wins; the others get false and may read again and retry.
   */
  save(revision: SettingsRevision): Promise<boolean>;
  /** The newest `limit` revisions, newest first. */
  history(userId: string, limit: number): Promise<SettingsRevision[]>;
  /** The newest revision made at or before `at`; null when there is none. */
  revisionAt(userId: string, at: string): Promise<SettingsRevision | null>;
  /** Forgets the user's settings and their whole history; returns 1 when they had saved any, else 0. */
  deleteForUser(userId: string): Promise<number>;
}

/** An event as stored: the event plus its position in the store. */
export interface StoredEvent {
  /** Monotonic position across the whole store; SSE `id` and resume cursor. */
  seq: number;
  event: DomainEvent;
  stored_at: string;
}

/** How many of one user's events share a type, the service that emitted them and the UTC hour. */
export interface EventTally {
  event_type: EventType;
  service_name: string;
  /** The user the events' metadata names; null for events of no user (system events). */
  user_id: string | null;
  /** Start of the hour of the events' `timestamp`, as an ISO instant (`…T13:00:00.000Z`). */
  hour: string;
  count: number;
}

/** Which stored events a query selects; every absent field selects all. */
export interface EventFilter {
  eventTypes?: readonly EventType[];
  aggregateId?: string;
  /** The user the event's metadata names. */
  userId?: string;
  serviceName?: string;
  /** Bounds (inclusive) of the event's `timestamp`, as UTC ISO instants. */
  from?: string;
  to?: string;
  /**
   * Literal text, in any letter case (ASCII letters in the embedded store), within the event id,
   * type, aggregate id, user id or service name.
   */
  searchText?: string;
}

/** An event deleted by an administrator, kept as it was with who deleted it and when. */
export interface ArchivedEvent extends StoredEvent {
  deleted_by: string;
  deleted_at: string;
}

export interface EventStore {
  /** Appends once per `event_id`; a duplicate returns the first copy with `duplicate: true`. */
  append(event: DomainEvent): Promise<StoredEvent & { duplicate: boolean }>;
  /** Events of one aggregate with `seq > afterSeq`, oldest first. */
  listByAggregate(
    aggregateId: string,
    options?: { afterSeq?: number; eventTypes?: readonly EventType[]; limit?: number },
  ): Promise<StoredEvent[]>;
  get(eventId: string): Promise<StoredEvent | null>;
  /**
   * Events whose metadata names the user, newest first (by `timestamp`, then position), those of
   * `eventTypes` only when given.
   */
  listByUser(
    userId: string,
    options?: { eventTypes?: readonly EventType[]; limit?: number },
  ): Promise<StoredEvent[]>;
  /** Matching events, newest first (by `timestamp`, then position), a page at a time. */
  browse(filter: EventFilter, paging: { skip: number; limit: number }): Promise<Page<StoredEvent>>;
  /**
   * Matching events in stored order (by position) after `afterSeq`: paging by the last position seen
   * neither skips nor repeats an event while others are appended.
   */
  select(filter: EventFilter, options: { afterSeq?: number; limit: number }): Promise<StoredEvent[]>;
  /** Matching events counted by hour (oldest first), type, service and user. */
  tally(filter: EventFilter): Promise<EventTally[]>;
  /** Moves an event to the archive; null when there is no such event. */
  archive(eventId: string, by: { deleted_by: string; deleted_at: string }): Promise<ArchivedEvent | null>;
  getArchived(eventId: string): Promise<ArchivedEvent | null>;
  /**
   * Deletes a user's events: every event whose metadata names the user, and every event of the given
   * aggregates (their executions, whoever emitted them). Returns how many; their positions stay gaps.
   */
  deleteForUser(userId: string, aggregateIds: readonly string[]): Promise<number>;
}

export interface DeadLetter {
  dead_letter_id: string;
  subscriber: string;
  event: DomainEvent | null;
  /** The raw body when the event could not be parsed. */
  raw: string | null;
  event_type: string;
  event_id: string;
  /** Why it was dead-lettered: the sink's last status and message. */
  error: string;
  attempts: number;
  created_at: string;
}

export interface DeadLetterRepository {
  add(letter: DeadLetter): Promise<void>;
  list(paging: { limit: number; offset: number }): Promise<Page<DeadLetter>>;
  get(deadLetterId: string): Promise<DeadLetter | null>;
  delete(deadLetterId: string): Promise<boolean>;
}

export interface ApiKeyRepository {
  create(key: ApiKeyRecord): Promise<void>;
  findByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  /** The user's keys, newest first. */
  listForUser(userId: string): Promise<ApiKeyRecord[]>;
  /** Notes when a key was last used; no-op for a key that is gone. */
  touch(keyId: string, at: string): Promise<void>;
  /** Deletes the user's key; false when the user has no key of that id. */
  delete(userId: string, keyId: string): Promise<boolean>;
  deleteForUser(userId: string): Promise<number>;
}

export interface AuditFilter {
  actorId?: string;
  action?: string;
  targetType?: AuditTargetType;
  targetId?: string;
  /** Bounds (inclusive) of `at`, as UTC ISO instants. */
  from?: string;
  to?: string;
}

export interface AuditLogRepository {
  append(entry: AuditEntry): Promise<void>;
  /** Matching entries, newest first. */
  list(filter: AuditFilter, paging: { limit: number; offset: number }): Promise<Page<AuditEntry>>;
}

/** The one record of the administrators' system settings. */
export interface SystemSettingsRepository {
  /** The settings as last saved; null until an administrator changes them. */
  get(): Promise<SystemSettings | null>;
  save(settings: SystemSettings): Promise<void>;
  /** Back to the deployment's configuration. */
  clear(): Promise<void>;
}

export interface Repositories {
  users: UserRepository;
  sessions: SessionRepository;
  executions: ExecutionRepository;
  notifications: NotificationRepository;
  notificationSubscriptions: NotificationSubscriptionRepository;
  notificationDeliveries: NotificationDeliveryRepository;
  savedScripts: SavedScriptRepository;
  userSettings: UserSettingsRepository;
  events: EventStore;
  deadLetters: DeadLetterRepository;
  apiKeys: ApiKeyRepository;
  auditLog: AuditLogRepository;
  systemSettings: SystemSettingsRepository;
  /** Readiness: can the store serve requests right now? */
  ping(): Promise<void>;
  close(): Promise<void>;
}
