/**
 * admin-audit: the log of administrators' changes — who did what to which account, execution, event
 * or setting, with the fields before and after — newest first, filtered. Admins only.
 */
import { requireAdmin } from '../../shared/http/auth';
import { HttpError, validate } from '../../shared/http/errors';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { AuditQuerySchema } from './requests';

export const BASE = '/api/v1/admin/audit';

export function createAdminAuditApp(platform: Platform) {
  const app = createFunctionApp(platform, 'admin-audit');

  app.get(BASE, async (c) => {
    requireAdmin(c);
    const query = validate(AuditQuerySchema, c.req.query(), 'query');
    // Both are canonical UTC instants, so text order is time order.
    if (query.start_time && query.end_time && query.start_time > query.end_time)
      throw new HttpError(422, 'start_time must not be after end_time', 'ValidationError');
    const page = await platform.store.auditLog.list(
      {
        actorId: query.actor_id,
        action: query.action,
        targetType: query.target_type,
        targetId: query.target_id,
        from: query.start_time,
        to: query.end_time,
      },
      { limit: query.limit, offset: query.offset },
    );
    return c.json({ entries: page.items, total: page.total, limit: query.limit, offset: query.offset });
  });

  return app;
}
