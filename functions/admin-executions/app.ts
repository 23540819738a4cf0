/**
 * admin-executions: every user's executions with their priority, the queue as all run-pod instances
 * share it (counted in the store), and a waiting execution's priority. Admins only.
 */

import * as v from 'valibot';
import { recordAudit } from '../../shared/audit/record';
import { effectiveSettings } from '../../shared/config/effective-settings';
import { changedFields } from '../../shared/domain/audit';
import { type ExecutionRecord, QUEUE_PRIORITIES, type QueuePriority } from '../../shared/domain/execution';
import { requireAdmin } from '../../shared/http/auth';
import { HttpError, notFound, readJson, validate } from '../../shared/http/errors';
import { UuidSchema } from '../../shared/http/params';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { AdminListQuerySchema, PriorityUpdateSchema } from './requests';

export const BASE = '/api/v1/admin/executions';

export const toAdminExecution = (execution: ExecutionRecord) => ({
  execution_id: execution.execution_id,
  script: execution.script,
  status: execution.status,
  lang: execution.lang,
  lang_version: execution.lang_version,
  stdout: execution.stdout,
  stderr: execution.stderr,
  exit_code: execution.exit_code,
  error_type: execution.error_type,
  priority: execution.priority,
  user_id: execution.user_id,
  created_at: execution.created_at,
  updated_at: execution.updated_at,
});

export function createAdminExecutionsApp(platform: Platform) {
  const app = createFunctionApp(platform, 'admin-executions');
  const { executions } = platform.store;
  const count = async (filter: Parameters<typeof executions.list>[0]) =>
    (await executions.list(filter, { limit: 0, skip: 0 })).total;

  for (const path of [BASE, `${BASE}/`]) {
    app.get(path, async (c) => {
      requireAdmin(c);
      const query = validate(AdminListQuerySchema, c.req.query(), 'query');
      const page = await executions.list(
        { status: query.status, priority: query.priority, userId: query.user_id },
        { limit: query.limit, skip: query.skip },
      );
      return c.json({
        executions: page.items.map(toAdminExecution),
        total: page.total,
        limit: query.limit,
        skip: query.skip,
        has_more: query.skip + page.items.length < page.total,
      });
    });
  }

  app.get(`${BASE}/queue`, async (c) => {
    requireAdmin(c);
    const byPriority = Object.fromEntries(
      await Promise.all(
        QUEUE_PRIORITIES.map(
          async (priority) => [priority, await count({ status: 'queued', priority })] as const,
        ),
      ),
    ) as Record<QueuePriority, number>;
    return c.json({
      queue_depth: Object.values(byPriority).reduce((sum, n) => sum + n, 0),
      active_count: await count({ statuses: ['scheduled', 'running'] }),
      max_concurrent: (await effectiveSettings(platform)).max_concurrent_executions,
      by_priority: byPriority,
    });
  });

  app.put(`${BASE}/:execution_id/priority`, async (c) => {
    const admin = requireAdmin(c);
    const id = c.req.param('execution_id');
    const execution = v.is(UuidSchema, id) ? await executions.get(id.toLowerCase()) : null;
    if (!execution) throw notFound('Execution not found');
    const { priority } = validate(PriorityUpdateSchema, await readJson(c), 'body');
    // Guarded on `queued`: once run-pod has admitted it, its place in the queue is history.
    const updated = await executions.transition(execution.execution_id, ['queued'], {
      priority,
      updated_at: platform.now().toISOString(),
    });
    if (!updated)
      throw new HttpError(
        409,
        `Only a queued execution's priority can change; this one is ${execution.status}`,
      );
    await recordAudit(platform, {
      actor: admin,
      action: 'execution.priority',
      target: { type: 'execution', id: execution.execution_id },
      changes: changedFields(execution, { priority }),
    });
    return c.json(toAdminExecution(updated));
  });

  return app;
}
