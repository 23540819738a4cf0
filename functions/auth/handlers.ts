/**
 * Accounts and sessions: register, log in, log out, who am I. Pure of HTTP so tests can call them
 * directly; `app.ts` turns their results into responses and cookies.
 */
import {
  accountLocked,
  clearLoginFailures,
  lockRemainingMs,
  recordLoginFailure,
} from '../../shared/auth/lockout';
import { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from '../../shared/auth/passwords';
import { endSession, type IssuedSession, startSession } from '../../shared/auth/sessions';
import { effectiveSettings } from '../../shared/config/effective-settings';
import {
  newUserRecord,
  type Principal,
  toUserResponse,
  type UserRecord,
  type UserResponse,
} from '../../shared/domain/user';
import type { EventOf } from '../../shared/events/schemas';
import { HttpError, unauthorized, validate } from '../../shared/http/errors';
import type { Platform } from '../../shared/platform/platform';
import { ConflictError } from '../../shared/store/ports';
import { LoginFormSchema, registrationSchema } from './requests';

/** Where a request came from, for the audit trail. */
export interface ClientInfo {
  ipAddress?: string;
  userAgent?: string;
}

type UserEventType = 'user_registered' | 'user_logged_in' | 'user_logged_out' | 'auth_failed';

/** Audit events must never decide whether someone can sign in, so a failure to publish is only logged. */
async function audit(
  platform: Platform,
  type: UserEventType,
  fields: { username: string; user_id?: string; reason?: string },
  client: ClientInfo,
): Promise<void> {
  try {
    const event = platform.events.create<EventOf<UserEventType>>(
      {
        event_type: type,
        ...fields,
        ...(fields.user_id ? { aggregate_id: fields.user_id } : {}),
        ...(client.ipAddress ? { ip_address: client.ipAddress } : {}),
        ...(client.userAgent ? { user_agent: client.userAgent } : {}),
      },
      fields.user_id ? { userId: fields.user_id } : {},
    );
    await platform.events.publish(event);
  } catch (error) {
    platform.log.error('audit event not published', { event_type: type, error });
  }
}

/** Creates an account; new accounts are always active users, whatever the body says. */
export async function register(
  platform: Platform,
  body: unknown,
  client: ClientInfo = {},
): Promise<UserResponse> {
  const { password_min_length } = await effectiveSettings(platform);
  const input = validate(registrationSchema(password_min_length), body, 'body');
  const user = newUserRecord(
    {
      username: input.username,
      email: input.email,
      role: 'user',
      is_active: true,
      password_hash: await hashPassword(input.password),
    },
    platform.now().toISOString(),
  );
  try {
    await platform.store.users.create(user);
  } catch (error) {
    if (error instanceof ConflictError) throw new HttpError(409, error.message);
    throw error;
  }
  await audit(platform, 'user_registered', { username: user.username, user_id: user.user_id }, client);
  return toUserResponse(user);
}

export interface LoginResult {
  user: UserRecord;
  session: IssuedSession;
}

/**
 * Checks the credentials and opens a session. Unknown users and wrong passwords get the same answer in
 * the same time; every failure counts towards the username's lockout.
 */
export async function login(
  platform: Platform,
  form: unknown,
  client: ClientInfo = {},
): Promise<LoginResult> {
  const { username, password } = validate(LoginFormSchema, form, 'body');
  const lockedMs = await lockRemainingMs(platform, username);
  if (lockedMs > 0) throw accountLocked(lockedMs);

  const user = await platform.store.users.findByUsername(username);
  const valid = user
    ? await verifyPassword(password, user.password_hash)
    : await verifyAgainstDummy(password);
  if (!user || !valid) {
    const lockMs = await recordLoginFailure(platform, username);
    const reason = lockMs > 0 ? 'account_locked' : user ? 'invalid_password' : 'unknown_user';
    await audit(
      platform,
      'auth_failed',
      { username, ...(user ? { user_id: user.user_id } : {}), reason },
      client,
    );
    if (lockMs > 0) throw accountLocked(lockMs);
    throw unauthorized('Invalid username or password');
  }
  if (!user.is_active) {
    await audit(
      platform,
      'auth_failed',
      { username, user_id: user.user_id, reason: 'account_deactivated' },
      client,
    );
    throw new HttpError(403, 'Account is deactivated');
  }

  await clearLoginFailures(platform, username);
  if (needsRehash(user.password_hash)) {
    await platform.store.users.update(user.user_id, { password_hash: await hashPassword(password) });
  }
  const session = await startSession(platform, user);
  await audit(platform, 'user_logged_in', { username, user_id: user.user_id }, client);
  return { user, session };
}

/** Ends the session behind `token` (if any) on the server, so the cookie stops working at once. */
export async function logout(
  platform: Platform,
  token: string | undefined,
  client: ClientInfo = {},
): Promise<void> {
  if (!token) return;
  const userId = await endSession(platform, token);
  if (!userId) return;
  const user = await platform.store.users.findById(userId);
  if (user)
    await audit(platform, 'user_logged_out', { username: user.username, user_id: user.user_id }, client);
}

/** The signed-in user's current record, read afresh: the session carries only who they are. */
export async function me(platform: Platform, principal: Principal | null): Promise<UserResponse> {
  const user = principal && (await platform.store.users.findById(principal.user_id));
  if (!user) throw unauthorized();
  return toUserResponse(user);
}
