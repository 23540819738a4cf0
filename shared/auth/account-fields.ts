/**
 * What an account's fields may hold, the same wherever an account is made or changed: registration,
 * and an administrator creating or editing a user or resetting a password.
 */
import * as v from 'valibot';
import { MAX_PASSWORD_LENGTH } from './passwords';

export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

export const UsernameSchema = v.pipe(
  v.string('username must be a string'),
  v.minLength(3, 'username must be 3 to 50 characters'),
  v.maxLength(50, 'username must be 3 to 50 characters'),
  v.regex(USERNAME_PATTERN, 'username may contain only letters, digits, "_", "." and "-"'),
);

export const EmailSchema = v.pipe(
  v.string('email must be a string'),
  v.trim(),
  v.maxLength(254, 'email is too long'),
  v.email('email must be a valid email address'),
);

/** A new password under the configured minimum length; `field` names it in the messages. */
export const passwordSchema = (minLength: number, field = 'password') =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.minLength(minLength, `${field} must be at least ${minLength} characters`),
    v.maxLength(MAX_PASSWORD_LENGTH, `${field} must be at most ${MAX_PASSWORD_LENGTH} characters`),
  );
