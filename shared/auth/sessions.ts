/**
 * Server-side sessions. The browser holds a random token; the store holds only its SHA-256, so a leaked
 * database cannot be replayed as cookies. Deleting the record ends the session at once.
 */

import { createHash, randomBytes } from 'node:crypto';
import { effectiveSettings } from '../config/effective-settings';
import type { Principal, SessionRecord, UserRecord } from '../domain/user';
import type { Platform } from '../platform/platform';
import { issueCsrfToken } from './csrf';

export interface IssuedSession {
  token: string;
  csrfToken: string;
  expiresAt: Date;
  maxAgeSeconds: number;
}

export const hashSessionToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function startSession(platform: Platform, user: Principal): Promise<IssuedSession> {
  const token = randomBytes(32).toString('base64url');
  const now = platform.now();
  const maxAgeSeconds = (await effectiveSettings(platform)).session_timeout_minutes * 60;
  const expiresAt = new Date(now.getTime() + maxAgeSeconds * 1000);
  const record: SessionRecord = {
    token_hash: hashSessionToken(token),
    user_id: user.user_id,
    username: user.username,
    role: user.role,
    created_at: now.toISOString(),
    expires_at: expiresAt.toISOString(),
  };
  await platform.store.sessions.create(record);
  return { token, csrfToken: issueCsrfToken(platform.secretKey, token), expiresAt, maxAgeSeconds };
}

/** Who a session token signs in; null for an unknown or expired session. */
export async function principalForSession(platform: Platform, token: string): Promise<Principal | null> {
  const session = await platform.store.sessions.find(hashSessionToken(token), platform.now());
  // A session from before sessions carried the role: signing in again makes a complete one.
  if (!session?.role) return null;
  return { user_id: session.user_id, username: session.username, role: session.role };
}

/**
 * Changes what a user may do and ends every session they have, since sessions carry the role they
 * were opened with; the user signs in again under the new rules (or not at all, when deactivated).
 */
export async function changeUserAccess(
  platform: Platform,
  userId: string,
  access: Partial<Pick<UserRecord, 'role' | 'is_active'>>,
): Promise<UserRecord | null> {
  const user = await platform.store.users.update(userId, {
    ...access,
    updated_at: platform.now().toISOString(),
  });
  await platform.store.sessions.deleteForUser(userId);
  return user;
}

/** Ends the session; returns the user id it belonged to, if it was still valid. */
export async function endSession(platform: Platform, token: string): Promise<string | null> {
  const tokenHash = hashSessionToken(token);
  const session = await platform.store.sessions.find(tokenHash, platform.now());
  await platform.store.sessions.delete(tokenHash);
  return session?.user_id ?? null;
}
