/** The bell's data: latest notifications, the unread count, and the live notification stream. */
import { request } from './api';
import type { AppNotification, NotificationPage } from './types';

const LATEST = 10;
const STREAM_URL = '/api/v1/events/notifications/stream';

class NotificationState {
  items = $state<AppNotification[]>([]);
  unread = $state(0);
  loading = $state(false);
  error = $state<string | null>(null);
}

export const notifications = new NotificationState();

export const isUnread = (item: AppNotification): boolean => !item.read_at && item.status !== 'read';

let source: EventSource | null = null;
let reconnectTimer: number | undefined;
let reconnectDelayMs = 2000;
let active = false;

export async function refreshNotifications(): Promise<void> {
  notifications.loading = true;
  try {
    const page = await request<NotificationPage>('/notifications', { query: { limit: LATEST, offset: 0 } });
    notifications.items = page.notifications;
    notifications.unread = page.unread_count;
    notifications.error = null;
  } catch (err) {
    notifications.error = err instanceof Error ? err.message : String(err);
  } finally {
    notifications.loading = false;
  }
}

function receive(item: AppNotification): void {
  if (notifications.items.some((known) => known.notification_id === item.notification_id)) return;
  notifications.items = [item, ...notifications.items].slice(0, LATEST);
  if (isUnread(item)) notifications.unread += 1;
}

function connect(): void {
  if (!active) return;
  const stream = new EventSource(STREAM_URL);
  source = stream;
  stream.addEventListener('open', () => {
    reconnectDelayMs = 2000;
  });
  stream.addEventListener('notification', (event) => {
    try {
      receive(JSON.parse((event as MessageEvent<string>).data) as AppNotification);
    } catch {
      // A frame we cannot parse is skipped; the list is re-read on the next open of the bell.
    }
  });
  stream.addEventListener('error', () => {
    // EventSource retries by itself after network drops; it gives up (CLOSED) on HTTP errors such as 401 or 429.
    if (stream.readyState !== EventSource.CLOSED || !active) return;
    source = null;
    reconnectTimer = window.setTimeout(() => {
      void refreshNotifications();
      connect();
    }, reconnectDelayMs);
    reconnectDelayMs = Math.min(reconnectDelayMs * 2, 60_000);
  });
}

export function startNotifications(): void {
  if (active) return;
  active = true;
  void refreshNotifications();
  connect();
}

export function stopNotifications(): void {
  active = false;
  window.clearTimeout(reconnectTimer);
  source?.close();
  source = null;
  notifications.items = [];
  notifications.unread = 0;
}

export async function markRead(item: AppNotification): Promise<void> {
  if (!isUnread(item)) return;
  await request(`/notifications/${encodeURIComponent(item.notification_id)}/read`, { method: 'PUT' });
  notifications.items = notifications.items.map((known) =>
    known.notification_id === item.notification_id
      ? { ...known, status: 'read', read_at: new Date().toISOString() }
      : known,
  );
  notifications.unread = Math.max(0, notifications.unread - 1);
}

export async function markAllRead(): Promise<void> {
  await request('/notifications/mark-all-read', { method: 'POST' });
  const now = new Date().toISOString();
  notifications.items = notifications.items.map((item) =>
    isUnread(item) ? { ...item, status: 'read', read_at: now } : item,
  );
  notifications.unread = 0;
}

export async function deleteNotification(item: AppNotification): Promise<void> {
  await request(`/notifications/${encodeURIComponent(item.notification_id)}`, { method: 'DELETE' });
  notifications.items = notifications.items.filter((known) => known.notification_id !== item.notification_id);
  if (isUnread(item)) notifications.unread = Math.max(0, notifications.unread - 1);
}
