/** Sagas under /sagas and the admin queue under /admin/executions. */
import { request } from './api';

export interface Saga {
  saga_id: string;
  saga_name: string;
  execution_id: string;
  state: string;
  current_step: string | null;
  completed_steps: string[];
  compensated_steps: string[];
  error_message: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface SagaPage {
  sagas: Saga[];
  total: number;
  skip: number;
  limit: number;
  has_more: boolean;
}

export interface AdminExecution {
  execution_id: string;
  status: string;
  lang: string;
  lang_version: string;
  priority: string;
  user_id: string | null;
  created_at: string;
}

export interface AdminExecutionPage {
  executions: AdminExecution[];
  total: number;
  limit: number;
  skip: number;
  has_more: boolean;
}

export interface QueueStatus {
  queue_depth: number;
  active_count: number;
  max_concurrent: number;
  by_priority: Record<string, number>;
}

export const QUEUE_PRIORITIES = ['critical', 'high', 'normal', 'low', 'background'];
export const SAGA_STATES = ['running', 'completed', 'failed', 'timeout', 'cancelled'];

export const listSagas = (query: { limit: number; skip: number; state?: string }) =>
  request<SagaPage>('/sagas/', { query });

export const cancelSaga = (sagaId: string) =>
  request<{ success: boolean; message: string }>(`/sagas/${encodeURIComponent(sagaId)}/cancel`, {
    method: 'POST',
  });

export const listAdminExecutions = (query: {
  limit: number;
  skip: number;
  status?: string;
  priority?: string;
}) => request<AdminExecutionPage>('/admin/executions/', { query });

export const queueStatus = () => request<QueueStatus>('/admin/executions/queue');

export const changePriority = (executionId: string, priority: string) =>
  request<AdminExecution>(`/admin/executions/${encodeURIComponent(executionId)}/priority`, {
    method: 'PUT',
    json: { priority },
  });
