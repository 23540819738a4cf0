/** The audit log under /admin/audit. */
import { request } from './api';

export interface AuditChange {
  field: string;
  old: unknown;
  new: unknown;
}

export interface AuditEntry {
  audit_id: string;
  at: string;
  actor_id: string;
  actor_username: string;
  action: string;
  target_type: string;
  target_id: string;
  changes: AuditChange[];
}

export interface AuditPage {
  entries: AuditEntry[];
  total: number;
  limit: number;
  offset: number;
}

export const AUDIT_TARGET_TYPES = [
  'user',
  'execution',
  'event',
  'dead_letter',
  'settings',
  'rate_limits',
  'replay',
  'saga',
];

export const listAudit = (query: {
  limit: number;
  offset: number;
  target_type?: string;
  action?: string;
  actor_id?: string;
  target_id?: string;
}) => request<AuditPage>('/admin/audit', { query });

/** A changed value as a short text: strings as they are, anything else as JSON, nothing as a dash. */
export const auditValue = (value: unknown): string =>
  value === null || value === undefined ? '–' : typeof value === 'string' ? value : JSON.stringify(value);
