/**
 * Server-side sessions. The browser holds a random token; the store holds only its SHA-256, so a leaked
 * database cannot be replayed as cookies. Deleting the record ends the session at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SessionRecord, UserRecord } from '../domain/user';
import type { Platform } from '../platform/platform';
import { issueCsrfToken } from './csrf';

export interface IssuedSession {
  token: string;
  csrfToken: string;
  expiresAt: Date;
  maxAgeSeconds: number;
}

export const hashSessionToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function startSession(platform: Platform, userId: string): Promise<IssuedSession> {
  const token = randomBytes(32).toString('base64url');
  const now = platform.now();
  const maxAgeSeconds = platform.config.SESSION_TIMEOUT_MINUTES * 60;
  const expiresAt = new Date(now.getTime() + maxAgeSeconds * 1000);
  const record: SessionRecord = {
    token_hash: hashSessionToken(token),
    user_id: userId,
    created_at: now.toISOString(),
    expires_at: expiresAt.toISOString(),
  };
  await platform.store.sessions.create(record);
  return { token, csrfToken: issueCsrfToken(platform.secretKey, token), expiresAt, maxAgeSeconds };
}

/** The active user a session token belongs to; null for an unknown or expired session or an inactive user. */
export async function userForSession(platform: Platform, token: string): Promise<UserRecord | null> {
  const session = await platform.store.sessions.find(hashSessionToken(token), platform.now());
  if (!session) return null;
  const user = await platform.store.users.findById(session.user_id);
  return user?.is_active ? user : null;
}

/** Ends the session; returns the user id it belonged to, if it was still valid. */
export async function endSession(platform: Platform, token: string): Promise<string | null> {
  const tokenHash = hashSessionToken(token);
  const session = await platform.store.sessions.find(tokenHash, platform.now());
  await platform.store.sessions.delete(tokenHash);
  return session?.user_id ?? null;
}
