/** What the admin user operations accept, each field checked by valibot with a message naming it. */
import * as v from 'valibot';
import { EmailSchema, passwordSchema, UsernameSchema } from '../../shared/auth/account-fields';
import { USER_ROLES } from '../../shared/domain/user';
import { queryInt } from '../../shared/http/params';

const Role = v.picklist(USER_ROLES, `role must be one of ${USER_ROLES.join(', ')}`);
const Active = v.boolean('is_active must be true or false');

export const MAX_SEARCH_CHARS = 100;

/** `GET /admin/users/`: paging as the reference bounds it, an optional search and role. */
export const ListQuerySchema = v.object({
  limit: queryInt(1, 1000, 100),
  offset: queryInt(0, Number.MAX_SAFE_INTEGER, 0),
  search: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.maxLength(MAX_SEARCH_CHARS, `search must be at most ${MAX_SEARCH_CHARS} characters`),
    ),
  ),
  role: v.optional(Role),
});

/**
 * `UserCreate`. Passwords follow the same minimum as registration (the reference let admins set
 * shorter ones than users may choose).
 */
export const createRequestSchema = (minPasswordLength: number) =>
  v.object({
    username: UsernameSchema,
    email: EmailSchema,
    password: passwordSchema(minPasswordLength),
    role: v.optional(Role, 'user'),
    is_active: v.optional(Active, true),
  });

/** `UserUpdate`: every field optional, null meaning "leave it" as in the reference. */
export const updateRequestSchema = (minPasswordLength: number) =>
  v.object({
    username: v.nullish(UsernameSchema),
    email: v.nullish(EmailSchema),
    role: v.nullish(Role),
    is_active: v.nullish(Active),
    password: v.nullish(passwordSchema(minPasswordLength)),
  });

/** `PasswordResetRequest`. */
export const resetPasswordRequestSchema = (minPasswordLength: number) =>
  v.object({ new_password: passwordSchema(minPasswordLength, 'new_password') });

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/** `DELETE ?cascade=`: a boolean spelled as FastAPI accepts it, true when absent. */
export const DeleteQuerySchema = v.object({
  cascade: v.pipe(
    v.optional(
      v.pipe(v.string(), v.toLowerCase(), v.picklist([...TRUE, ...FALSE], 'cascade must be true or false')),
      'true',
    ),
    v.transform((value) => TRUE.includes(value)),
  ),
});
