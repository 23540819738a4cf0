import { randomUUID } from 'node:crypto';
import * as v from 'valibot';

export const USER_ROLES = ['user', 'admin', 'moderator'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface UserRecord {
  user_id: string;
  username: string;
  email: string;
  role: UserRole;
  is_active: boolean;
  is_superuser: boolean;
  password_hash: string;
  created_at: string;
  updated_at: string;
}

/** A new account: a fresh id, created and last changed `now`, not a superuser unless said so. */
export const newUserRecord = (
  fields: Pick<UserRecord, 'username' | 'email' | 'role' | 'is_active' | 'password_hash'> &
    Partial<Pick<UserRecord, 'is_superuser'>>,
  now: string,
): UserRecord => ({
  user_id: randomUUID(),
  ...fields,
  is_superuser: fields.is_superuser ?? false,
  created_at: now,
  updated_at: now,
});

/** `UserResponse` of the reference API; the rate-limit fields are the reference's, always null here. */
export const UserResponseSchema = v.object({
  user_id: v.string(),
  username: v.string(),
  email: v.string(),
  role: v.picklist(USER_ROLES),
  is_active: v.boolean(),
  is_superuser: v.boolean(),
  created_at: v.string(),
  updated_at: v.string(),
  bypass_rate_limit: v.nullable(v.boolean()),
  global_multiplier: v.nullable(v.number()),
  has_custom_limits: v.nullable(v.boolean()),
});
export type UserResponse = v.InferOutput<typeof UserResponseSchema>;

export const toUserResponse = (user: UserRecord): UserResponse => ({
  user_id: user.user_id,
  username: user.username,
  email: user.email,
  role: user.role,
  is_active: user.is_active,
  is_superuser: user.is_superuser,
  created_at: user.created_at,
  updated_at: user.updated_at,
  bypass_rate_limit: null,
  global_multiplier: null,
  has_custom_limits: null,
});

/** Who is calling: what authorisation needs, carried by the session so no request reads the user. */
export interface Principal {
  user_id: string;
  username: string;
  role: UserRole;
}

/**
 * A signed-in session. It carries the user's identity and role as of sign-in; whatever changes a
 * user's role or deactivates or deletes them must end their sessions (`sessions.deleteForUser`).
 */
export interface SessionRecord extends Principal {
  /** SHA-256 of the session token; the token itself is never stored. */
  token_hash: string;
  created_at: string;
  expires_at: string;
}
