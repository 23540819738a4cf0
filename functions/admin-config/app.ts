/**
 * admin-config: the system settings administrators change at run time (shared/domain/system-settings.ts).
 * A change is validated whole, saved, audited and in force in every function within seconds. Admins only.
 */
import { recordAudit } from '../../shared/audit/record';
import { effectiveSettings, forgetEffectiveSettings } from '../../shared/config/effective-settings';
import { changedFields } from '../../shared/domain/audit';
import {
  configuredSettings,
  DEPLOYMENT_FIELDS,
  type SystemSettings,
  SystemSettingsUpdateSchema,
} from '../../shared/domain/system-settings';
import { requireAdmin } from '../../shared/http/auth';
import { readJsonObject, ValidationFailed, validate } from '../../shared/http/errors';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';

export const BASE = '/api/v1/admin/settings';

export function createAdminConfigApp(platform: Platform) {
  const app = createFunctionApp(platform, 'admin-config');
  const repository = platform.store.systemSettings;

  const current = () => {
    forgetEffectiveSettings(platform);
    return effectiveSettings(platform);
  };

  // The reference serves `/admin/settings/`; `/admin/settings` answers too.
  for (const path of [BASE, `${BASE}/`]) {
    app.get(path, async (c) => {
      requireAdmin(c);
      return c.json(await current());
    });

    app.put(path, async (c) => {
      const admin = requireAdmin(c);
      const change = validate(SystemSettingsUpdateSchema, await readJsonObject(c), 'body');
      const before = await current();
      const fixed = (Object.keys(DEPLOYMENT_FIELDS) as (keyof typeof DEPLOYMENT_FIELDS)[]).filter(
        (field) => change[field] !== undefined && change[field] !== before[field],
      );
      if (fixed.length > 0)
        throw new ValidationFailed(
          fixed.map((field) => ({
            loc: ['body', field],
            msg: `is set by the deployment (${DEPLOYMENT_FIELDS[field]}) and cannot change here`,
            type: 'value_error',
          })),
        );
      const next: SystemSettings = { ...before, ...change };
      await repository.save(next);
      forgetEffectiveSettings(platform);
      await recordAudit(platform, {
        actor: admin,
        action: 'settings.update',
        target: { type: 'settings', id: 'system' },
        changes: changedFields(before, change),
      });
      return c.json(next);
    });
  }

  app.post(`${BASE}/reset`, async (c) => {
    const admin = requireAdmin(c);
    const before = await current();
    await repository.clear();
    const after = configuredSettings(platform.config);
    forgetEffectiveSettings(platform);
    await recordAudit(platform, {
      actor: admin,
      action: 'settings.reset',
      target: { type: 'settings', id: 'system' },
      changes: changedFields(before, after),
    });
    return c.json(after);
  });

  return app;
}
