/** What registration and sign-in accept, each field checked by valibot with a message naming it. */
import * as v from 'valibot';
import { EmailSchema, passwordSchema, UsernameSchema } from '../../shared/auth/account-fields';
import { MAX_PASSWORD_LENGTH } from '../../shared/auth/passwords';

/** `UserCreate` as registration reads it: new accounts are always active users, whatever the body says. */
export const registrationSchema = (minPasswordLength: number) =>
  v.object({
    username: UsernameSchema,
    email: EmailSchema,
    password: passwordSchema(minPasswordLength),
  });

/** The OAuth2 password form. Its other fields are read for OAuth2 clients' sake and otherwise ignored. */
export const LoginFormSchema = v.object({
  username: v.pipe(
    v.string('username is required'),
    v.minLength(1, 'username is required'),
    v.maxLength(256, 'username is too long'),
  ),
  password: v.pipe(
    v.string('password is required'),
    v.minLength(1, 'password is required'),
    v.maxLength(MAX_PASSWORD_LENGTH, `password must be at most ${MAX_PASSWORD_LENGTH} characters`),
  ),
  grant_type: v.optional(v.literal('password', 'grant_type must be password')),
  scope: v.optional(v.string()),
  client_id: v.optional(v.string()),
  client_secret: v.optional(v.string()),
});
