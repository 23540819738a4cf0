/**
 * admin-users: the administrators' view of accounts — list and search, create, read, change, delete
 * with everything the user owns, a per-user overview, password reset and login unlock. Admins only:
 * 401 signed out, 403 for anyone else. Changes of role, active flag, username or password end the
 * user's sessions, since sessions carry who signed in and with which role.
 */

import type { Context } from 'hono';
import { recordAudit } from '../../shared/audit/record';
import { clearLoginFailures } from '../../shared/auth/lockout';
import { hashPassword } from '../../shared/auth/passwords';
import { changeUserAccess } from '../../shared/auth/sessions';
import { effectiveSettings } from '../../shared/config/effective-settings';
import { changedFields } from '../../shared/domain/audit';
import { newUserRecord, type Principal, toUserResponse, type UserRecord } from '../../shared/domain/user';
import { requireAdmin } from '../../shared/http/auth';
import { badRequest, HttpError, notFound, readJsonObject, validate } from '../../shared/http/errors';
import { type AppEnv, createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { ConflictError } from '../../shared/store/ports';
import { deleteUser } from './cascade';
import { userOverview } from './overview';
import {
  createRequestSchema,
  DeleteQuerySchema,
  ListQuerySchema,
  resetPasswordRequestSchema,
  updateRequestSchema,
} from './requests';

export const BASE = '/api/v1/admin/users';

/** Longer than any id this platform makes; anything longer cannot name a user. */
const MAX_ID_CHARS = 200;

const userNotFound = () => notFound('User not found');

/** A name or email another account holds: 409 with the store's words for which one. */
async function orConflict<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof ConflictError) throw new HttpError(409, error.message);
    throw error;
  }
}

/** True when the record is an administrator who can sign in. */
const isActiveAdmin = (user: Pick<UserRecord, 'role' | 'is_active'>) =>
  user.role === 'admin' && user.is_active;

export function createAdminUsersApp(platform: Platform) {
  const app = createFunctionApp(platform, 'admin-users');
  const { store } = platform;
  // The password policy is a system setting: read when a password is checked, not once at start.
  const minPassword = async () => (await effectiveSettings(platform)).password_min_length;

  /** The calling admin and the user behind `:user_id`, or 404. */
  async function target(c: Context<AppEnv>): Promise<{ admin: Principal; user: UserRecord }> {
    const admin = requireAdmin(c);
    const id = c.req.param('user_id') ?? '';
    const user = id.length <= MAX_ID_CHARS ? await store.users.findById(id) : null;
    if (!user) throw userNotFound();
    return { admin, user };
  }

  /**
   * Refuses a change that would leave no administrator able to sign in. The caller is an active admin
   * other than `user` whenever the self-checks passed, so this guards against racing changes and
   * records edited outside the API.
   */
  async function keepAnAdmin(user: UserRecord): Promise<void> {
    if (!isActiveAdmin(user)) return;
    const { total } = await store.users.list({ role: 'admin', isActive: true }, { limit: 0, offset: 0 });
    if (total <= 1) throw badRequest('At least one active administrator must remain');
  }

  for (const path of [BASE, `${BASE}/`]) {
    app.get(path, async (c) => {
      requireAdmin(c);
      const query = validate(ListQuerySchema, c.req.query(), 'query');
      const page = await store.users.list(
        { search: query.search || undefined, role: query.role },
        { limit: query.limit, offset: query.offset },
      );
      return c.json({
        users: page.items.map(toUserResponse),
        total: page.total,
        offset: query.offset,
        limit: query.limit,
      });
    });

    app.post(path, async (c) => {
      const admin = requireAdmin(c);
      const { password, ...fields } = validate(
        createRequestSchema(await minPassword()),
        await readJsonObject(c),
        'body',
      );
      // The superuser flag marks the operator's first administrator; nobody grants it here.
      const user = newUserRecord(
        { ...fields, password_hash: await hashPassword(password) },
        platform.now().toISOString(),
      );
      await orConflict(store.users.create(user));
      await recordAudit(platform, {
        actor: admin,
        action: 'user.create',
        target: { type: 'user', id: user.user_id },
        changes: changedFields<UserRecord>(null, { ...fields, password_hash: user.password_hash }, [
          'password_hash',
        ]),
      });
      return c.json(toUserResponse(user));
    });
  }

  app.get(`${BASE}/:user_id`, async (c) => {
    const { user } = await target(c);
    return c.json(toUserResponse(user));
  });

  app.get(`${BASE}/:user_id/overview`, async (c) => {
    const { user } = await target(c);
    return c.json(await userOverview(platform, user));
  });

  app.put(`${BASE}/:user_id`, async (c) => {
    const { admin, user } = await target(c);
    const request = validate(updateRequestSchema(await minPassword()), await readJsonObject(c), 'body');
    const role = request.role ?? user.role;
    const isActive = request.is_active ?? user.is_active;
    if (user.user_id === admin.user_id && !isActiveAdmin({ role, is_active: isActive }))
      throw badRequest('You cannot remove your own administrator access; ask another administrator');
    if (!isActiveAdmin({ role, is_active: isActive })) await keepAnAdmin(user);

    const profile: Partial<UserRecord> = {};
    if (request.username != null && request.username !== user.username) profile.username = request.username;
    if (request.email != null && request.email !== user.email) profile.email = request.email;
    if (request.password != null) profile.password_hash = await hashPassword(request.password);
    const access: Partial<Pick<UserRecord, 'role' | 'is_active'>> = {};
    if (role !== user.role) access.role = role;
    if (isActive !== user.is_active) access.is_active = isActive;
    if (Object.keys(profile).length === 0 && Object.keys(access).length === 0)
      return c.json(toUserResponse(user));

    let updated: UserRecord | null = user;
    // Name and email first: a 409 for a taken one leaves the access as it was.
    if (Object.keys(profile).length > 0)
      updated = await orConflict(
        store.users.update(user.user_id, { ...profile, updated_at: platform.now().toISOString() }),
      );
    if (updated && Object.keys(access).length > 0)
      updated = await changeUserAccess(platform, user.user_id, access);
    // A new name or password is also a reason to sign in again (changeUserAccess already did it).
    else if (updated && (profile.username || profile.password_hash))
      await store.sessions.deleteForUser(user.user_id);
    if (!updated) throw userNotFound();
    await recordAudit(platform, {
      actor: admin,
      action: 'user.update',
      target: { type: 'user', id: user.user_id },
      changes: changedFields<UserRecord>(user, { ...profile, ...access }, ['password_hash']),
    });
    return c.json(toUserResponse(updated));
  });

  app.delete(`${BASE}/:user_id`, async (c) => {
    const { admin, user } = await target(c);
    const { cascade } = validate(DeleteQuerySchema, c.req.query(), 'query');
    if (user.user_id === admin.user_id) throw badRequest('Cannot delete your own account');
    await keepAnAdmin(user);
    const deleted = await deleteUser(platform, user, admin, { cascade });
    await recordAudit(platform, {
      actor: admin,
      action: 'user.delete',
      target: { type: 'user', id: user.user_id },
      changes: changedFields(null, { username: user.username, email: user.email, cascade }),
    });
    return c.json(deleted);
  });

  app.post(`${BASE}/:user_id/reset-password`, async (c) => {
    const { admin, user } = await target(c);
    const { new_password } = validate(
      resetPasswordRequestSchema(await minPassword()),
      await readJsonObject(c),
      'body',
    );
    const updated = await store.users.update(user.user_id, {
      password_hash: await hashPassword(new_password),
      updated_at: platform.now().toISOString(),
    });
    if (!updated) throw userNotFound();
    // Whoever holds a session from before the reset must sign in with the new password.
    await store.sessions.deleteForUser(user.user_id);
    await recordAudit(platform, {
      actor: admin,
      action: 'user.reset_password',
      target: { type: 'user', id: user.user_id },
      changes: changedFields<UserRecord>(user, { password_hash: updated.password_hash }, ['password_hash']),
    });
    return c.json({ message: `Password of ${user.username} reset; their sessions have ended` });
  });

  app.post(`${BASE}/:user_id/unlock`, async (c) => {
    const { admin, user } = await target(c);
    await clearLoginFailures(platform, user.username);
    await recordAudit(platform, {
      actor: admin,
      action: 'user.unlock',
      target: { type: 'user', id: user.user_id },
    });
    return c.json({ user_id: user.user_id, message: `${user.username} may sign in again` });
  });

  return app;
}
