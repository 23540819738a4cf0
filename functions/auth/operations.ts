/** The auth operations as the OpenAPI document publishes them. */
import * as v from 'valibot';
import { USER_ROLES, UserResponseSchema } from '../../shared/domain/user';
import { MessageResponseSchema, type OperationGroup } from '../../shared/http/openapi/operation';
import { LoginFormSchema, registrationSchema } from './requests';

/** The document shows the default minimum; the operator's PASSWORD_MIN_LENGTH is what applies. */
const UserCreate = registrationSchema(8);

const LoginResponse = v.object({
  message: v.string(),
  username: v.string(),
  role: v.picklist(USER_ROLES),
  /** Sent back as X-CSRF-Token on every state-changing request. */
  csrf_token: v.string(),
});

const tags = ['authentication'];

export const authOperations: OperationGroup = {
  schemas: { UserResponse: UserResponseSchema, LoginResponse, MessageResponse: MessageResponseSchema },
  operations: [
    {
      method: 'post',
      path: '/api/v1/auth/login',
      tags,
      summary: 'Sign in; sets the session and CSRF cookies',
      access: 'public',
      body: { form: LoginFormSchema },
      responses: {
        200: { description: 'Signed in', schema: LoginResponse },
        401: { description: 'Wrong username or password' },
        423: { description: 'Too many failed attempts; try again later' },
      },
    },
    {
      method: 'post',
      path: '/api/v1/auth/register',
      tags,
      summary: 'Create an account',
      access: 'public',
      body: { json: UserCreate },
      responses: {
        200: { description: 'The new account', schema: UserResponseSchema },
        409: { description: 'Username or email taken' },
      },
    },
    {
      method: 'get',
      path: '/api/v1/auth/me',
      tags,
      summary: 'The signed-in user',
      access: 'user',
      responses: { 200: { description: 'The account', schema: UserResponseSchema } },
    },
    {
      method: 'post',
      path: '/api/v1/auth/logout',
      tags,
      summary: 'End the session',
      access: 'public',
      responses: { 200: { description: 'Signed out', schema: MessageResponseSchema } },
    },
  ],
};
