/**
 * Login lockout per username, counted for unknown names too so a lock reveals nothing about which
 * accounts exist. Failures count within a LOCKOUT_MINUTES window; reaching MAX_LOGIN_ATTEMPTS locks the
 * name for LOCKOUT_MINUTES. A successful login clears the count.
 */
import { effectiveSettings } from '../config/effective-settings';
import { HttpError } from '../http/errors';
import type { Platform } from '../platform/platform';

// Usernames sign in under any letter case, so every spelling of one name shares its count and its lock.
const failuresKey = (username: string) => `login:failures:${username.toLowerCase()}`;
const lockKey = (username: string) => `login:locked:${username.toLowerCase()}`;

export function accountLocked(remainingMs: number): HttpError {
  const minutes = Math.max(1, Math.ceil(remainingMs / 60_000));
  return new HttpError(
    423,
    `Account locked due to too many failed login attempts. Try again in ${minutes} minutes.`,
    'AccountLockedError',
    { 'Retry-After': String(Math.max(1, Math.ceil(remainingMs / 1000))) },
  );
}

/** Milliseconds left on the username's lock, or 0 when it may try to log in. */
export async function lockRemainingMs(platform: Platform, username: string): Promise<number> {
  const until = await platform.kv.get(lockKey(username));
  if (!until) return 0;
  return Math.max(0, Date.parse(until) - platform.now().getTime());
}

/** Counts a failed attempt; returns the lock duration in ms when this attempt locked the username, else 0. */
export async function recordLoginFailure(platform: Platform, username: string): Promise<number> {
  const settings = await effectiveSettings(platform);
  const lockMs = settings.lockout_duration_minutes * 60_000;
  const failures = await platform.kv.increment(failuresKey(username), { ttlMs: lockMs });
  if (failures < settings.max_login_attempts) return 0;
  const until = new Date(platform.now().getTime() + lockMs).toISOString();
  await platform.kv.set(lockKey(username), until, { ttlMs: lockMs });
  await platform.kv.delete(failuresKey(username));
  return lockMs;
}

/** Forgets failures and any lock (successful login, or an admin unlocking the account). */
export async function clearLoginFailures(platform: Platform, username: string): Promise<void> {
  await platform.kv.delete(failuresKey(username));
  await platform.kv.delete(lockKey(username));
}
