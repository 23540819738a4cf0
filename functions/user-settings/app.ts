/**
 * user-settings: a user's preferences — theme, time zone and formats, editor, notification preferences and
 * custom settings — with the history of every change (old and new values) and restore to a moment.
 * Everyone reads and changes only their own.
 */
import * as v from 'valibot';
import type { Principal } from '../../shared/domain/user';
import {
  DEFAULT_PREFERENCES,
  defaultSettings,
  type Preferences,
  preferencesOf,
  type SettingsChange,
  type UserSettingsRecord,
} from '../../shared/domain/user-settings';
import { currentUser } from '../../shared/http/auth';
import { conflict, readJsonObject, ValidationFailed, validate } from '../../shared/http/errors';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { applyPreferences, diffPreferences, historyEntries, type PreferencesPatch } from './changes';
import {
  CustomKeySchema,
  CustomSettingsSchema,
  CustomValueSchema,
  EditorSchema,
  HistoryQuerySchema,
  NotificationsSchema,
  RestoreRequestSchema,
  ThemeRequestSchema,
  UpdateRequestSchema,
} from './requests';

export const BASE = '/api/v1/user/settings';

/** Racing changes of one user's settings retry this often before answering 409. */
const SAVE_ATTEMPTS = 10;

/** What a change produces from the current settings: the new preferences and how to record it. */
type Change = (current: UserSettingsRecord) => Promise<{
  preferences: Preferences;
  reason: string | null;
  /** A restore is recorded as one entry for the whole settings; anything else field by field. */
  restore?: boolean;
}>;

export function createUserSettingsApp(platform: Platform) {
  const app = createFunctionApp(platform, 'user-settings');
  const repository = platform.store.userSettings;

  async function load(userId: string): Promise<UserSettingsRecord> {
    const stored = await repository.get(userId);
    if (stored) return stored;
    // Defaults date from the account, so they read the same every time until the first change.
    const account = await platform.store.users.findById(userId);
    return defaultSettings(userId, account?.created_at ?? platform.now().toISOString());
  }

  /** Applies a change as the next revision; a change that changes nothing records nothing. */
  async function change(user: Principal, compute: Change): Promise<UserSettingsRecord> {
    for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
      const current = await load(user.user_id);
      const { preferences, reason, restore } = await compute(current);
      const changes: SettingsChange[] = restore
        ? [{ field: '/', old_value: preferencesOf(current), new_value: preferences }]
        : diffPreferences(current, preferences);
      if (changes.length === 0) return current;
      const changedAt = platform.now().toISOString();
      const settings: UserSettingsRecord = {
        ...current,
        ...preferences,
        version: current.version + 1,
        updated_at: changedAt,
      };
      const saved = await repository.save({
        user_id: user.user_id,
        version: settings.version,
        changed_at: changedAt,
        reason,
        changes,
        settings,
      });
      if (saved) return settings;
    }
    throw conflict('Your settings were being changed from elsewhere at the same time; try again');
  }

  const patchWith =
    (patch: PreferencesPatch): Change =>
    async (current) => ({
      preferences: applyPreferences(current, patch),
      reason: null,
    });

  for (const path of [BASE, `${BASE}/`]) {
    app.get(path, async (c) => c.json(await load(currentUser(c).user_id)));

    app.put(path, async (c) => {
      const user = currentUser(c);
      const request = validate(UpdateRequestSchema, await readJsonObject(c), 'body');
      return c.json(await change(user, patchWith(request)));
    });
  }

  app.put(`${BASE}/theme`, async (c) => {
    const user = currentUser(c);
    const { theme } = validate(ThemeRequestSchema, await readJsonObject(c), 'body');
    return c.json(await change(user, patchWith({ theme })));
  });

  app.put(`${BASE}/notifications`, async (c) => {
    const user = currentUser(c);
    const notifications = validate(NotificationsSchema, await readJsonObject(c), 'body');
    return c.json(await change(user, patchWith({ notifications })));
  });

  app.put(`${BASE}/editor`, async (c) => {
    const user = currentUser(c);
    const editor = validate(EditorSchema, await readJsonObject(c), 'body');
    return c.json(await change(user, patchWith({ editor })));
  });

  app.put(`${BASE}/custom/:key`, async (c) => {
    const user = currentUser(c);
    const { key } = validate(v.object({ key: CustomKeySchema }), { key: c.req.param('key') }, 'path');
    const value = validate(CustomValueSchema, await readJsonObject(c), 'body');
    return c.json(
      await change(user, async (current) => {
        const custom = { ...current.custom_settings, [key]: value };
        // The whole map stays within its bounds, whichever key grows it.
        const result = v.safeParse(CustomSettingsSchema, custom);
        if (!result.success)
          throw new ValidationFailed([
            { loc: ['body'], msg: `custom settings ${result.issues[0].message}`, type: 'custom_settings' },
          ]);
        return { preferences: { ...preferencesOf(current), custom_settings: custom }, reason: null };
      }),
    );
  });

  app.get(`${BASE}/history`, async (c) => {
    const user = currentUser(c);
    const { limit } = validate(HistoryQuerySchema, c.req.query(), 'query');
    // Every revision has at least one entry, so `limit` revisions always fill `limit` entries.
    const revisions = await repository.history(user.user_id, limit);
    return c.json({ history: historyEntries(revisions, limit), limit });
  });

  app.post(`${BASE}/restore`, async (c) => {
    const user = currentUser(c);
    const request = validate(RestoreRequestSchema, await readJsonObject(c), 'body');
    const note = `Restored to ${request.timestamp}`;
    return c.json(
      await change(user, async () => {
        const revision = await repository.revisionAt(user.user_id, request.timestamp);
        return {
          preferences: revision ? preferencesOf(revision.settings) : structuredClone(DEFAULT_PREFERENCES),
          reason: request.reason ? `${note}: ${request.reason}` : note,
          restore: true,
        };
      }),
    );
  });

  return app;
}
