/** The admin event operations under /admin/events. */
import { request } from './api';

export interface StoredEventView {
  event_id: string;
  event_type: string;
  timestamp: string;
  aggregate_id: string | null;
  metadata: { service_name: string; user_id?: string };
  [field: string]: unknown;
}

export interface EventFilters {
  event_types?: string[];
  aggregate_id?: string;
  user_id?: string;
  service_name?: string;
  search_text?: string;
  start_time?: string;
  end_time?: string;
}

export interface EventPage {
  events: StoredEventView[];
  total: number;
  skip: number;
  limit: number;
}

export interface EventSummary {
  event_id: string;
  event_type: string;
  timestamp: string;
  aggregate_id: string | null;
}

export interface EventDetail {
  event: StoredEventView;
  related_events: EventSummary[];
  timeline: EventSummary[];
}

export interface EventStats {
  total_events: number;
  events_by_type: { event_type: string; count: number }[];
  top_users: { user_id: string; event_count: number }[];
  error_rate: number;
  avg_processing_time: number;
}

const path = (eventId: string) => `/admin/events/${encodeURIComponent(eventId)}`;

export const browseEvents = (filters: EventFilters, skip: number, limit: number) =>
  request<EventPage>('/admin/events/browse', { method: 'POST', json: { filters, skip, limit } });

export const eventStats = (hours = 24) => request<EventStats>('/admin/events/stats', { query: { hours } });

export const eventDetail = (eventId: string) => request<EventDetail>(path(eventId));

export const deleteEvent = (eventId: string) =>
  request<{ message: string; event_id: string }>(path(eventId), { method: 'DELETE' });

/** The download address of an export of the events `filters` select (search text is not an export filter). */
export function exportUrl(format: 'csv' | 'json', filters: EventFilters): string {
  const params = new URLSearchParams();
  for (const type of filters.event_types ?? []) params.append('event_types', type);
  for (const key of ['aggregate_id', 'user_id', 'service_name', 'start_time', 'end_time'] as const) {
    const value = filters[key];
    if (value) params.set(key, value);
  }
  const query = params.toString();
  return `/api/v1/admin/events/export/${format}${query ? `?${query}` : ''}`;
}

export interface DeadLetterView {
  dead_letter_id: string;
  subscriber: string;
  event: StoredEventView | null;
  raw: string | null;
  event_type: string;
  event_id: string;
  error: string;
  attempts: number;
  created_at: string;
}

const letterPath = (id: string, action = '') => `/admin/dead-letters/${encodeURIComponent(id)}${action}`;

export const listDeadLetters = (limit: number, offset: number) =>
  request<{ dead_letters: DeadLetterView[]; total: number }>('/admin/dead-letters', {
    query: { limit, offset },
  });

export const retryDeadLetter = (id: string) =>
  request<{ message: string }>(letterPath(id, '/retry'), { method: 'POST' });

export const discardDeadLetter = (id: string) => request<void>(letterPath(id), { method: 'DELETE' });
