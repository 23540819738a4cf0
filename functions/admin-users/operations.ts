/** The admin user operations as the OpenAPI document publishes them. */
import * as v from 'valibot';
import { EventStatisticsSchema } from '../../shared/domain/event-statistics';
import { UserResponseSchema } from '../../shared/domain/user';
import { DomainEventSchema } from '../../shared/events/schemas';
import { MessageResponseSchema, type OperationGroup } from '../../shared/http/openapi/operation';
import { DeletedCountsSchema } from './cascade';
import {
  createRequestSchema,
  DeleteQuerySchema,
  ListQuerySchema,
  resetPasswordRequestSchema,
  updateRequestSchema,
} from './requests';

/** The document shows the default minimum; the operator's PASSWORD_MIN_LENGTH is what applies. */
const MIN_PASSWORD = 8;
const UserCreate = createRequestSchema(MIN_PASSWORD);
const UserUpdate = updateRequestSchema(MIN_PASSWORD);
const PasswordResetRequest = resetPasswordRequestSchema(MIN_PASSWORD);

const count = v.pipe(v.number(), v.integer());

const UserListResponse = v.object({
  users: v.array(UserResponseSchema),
  total: count,
  offset: count,
  limit: count,
});

const DerivedCounts = v.object({
  succeeded: count,
  failed: count,
  timeout: count,
  cancelled: count,
  terminal_total: count,
});

const RateLimitSummary = v.object({
  bypass_rate_limit: v.nullable(v.boolean()),
  global_multiplier: v.nullable(v.number()),
  has_custom_limits: v.nullable(v.boolean()),
});

const AdminUserOverview = v.object({
  user: UserResponseSchema,
  stats: EventStatisticsSchema,
  derived_counts: DerivedCounts,
  rate_limit_summary: RateLimitSummary,
  recent_events: v.array(DomainEventSchema),
});

const UnlockResponse = v.object({ user_id: v.string(), message: v.string() });

const tags = ['admin', 'users'];
const notFound = { description: 'No such user' };

export const adminUsersOperations: OperationGroup = {
  schemas: {
    UserCreate,
    UserUpdate,
    PasswordResetRequest,
    UserListResponse,
    AdminUserOverview,
    EventStatistics: EventStatisticsSchema,
    DerivedCounts,
    RateLimitSummary,
    DeleteUserResponse: DeletedCountsSchema,
    UnlockResponse,
    DomainEvent: DomainEventSchema,
  },
  operations: [
    {
      method: 'get',
      path: '/api/v1/admin/users/',
      tags,
      summary: 'List and search accounts',
      access: 'admin',
      query: ListQuerySchema,
      responses: { 200: { description: 'A page of accounts', schema: UserListResponse } },
    },
    {
      method: 'post',
      path: '/api/v1/admin/users/',
      tags,
      summary: 'Create an account',
      access: 'admin',
      body: { json: UserCreate },
      responses: {
        200: { description: 'The new account', schema: UserResponseSchema },
        409: { description: 'Username or email taken' },
      },
    },
    {
      method: 'get',
      path: '/api/v1/admin/users/{user_id}',
      tags,
      summary: 'One account',
      access: 'admin',
      responses: { 200: { description: 'The account', schema: UserResponseSchema }, 404: notFound },
    },
    {
      method: 'put',
      path: '/api/v1/admin/users/{user_id}',
      tags,
      summary: 'Change an account; access changes end its sessions',
      access: 'admin',
      body: { json: UserUpdate },
      responses: {
        200: { description: 'The account as changed', schema: UserResponseSchema },
        400: { description: 'The change would leave no active administrator' },
        404: notFound,
        409: { description: 'Username or email taken' },
      },
    },
    {
      method: 'delete',
      path: '/api/v1/admin/users/{user_id}',
      tags,
      summary: 'Delete an account, with everything it owns unless cascade=false',
      access: 'admin',
      query: DeleteQuerySchema,
      responses: {
        200: { description: 'What was deleted', schema: DeletedCountsSchema },
        400: { description: 'Deleting oneself or the last administrator' },
        404: notFound,
      },
    },
    {
      method: 'get',
      path: '/api/v1/admin/users/{user_id}/overview',
      tags,
      summary: "An account's activity of the last day",
      access: 'admin',
      responses: { 200: { description: 'The overview', schema: AdminUserOverview }, 404: notFound },
    },
    {
      method: 'post',
      path: '/api/v1/admin/users/{user_id}/reset-password',
      tags,
      summary: 'Set a new password; ends the sessions',
      access: 'admin',
      body: { json: PasswordResetRequest },
      responses: { 200: { description: 'Password reset', schema: MessageResponseSchema }, 404: notFound },
    },
    {
      method: 'post',
      path: '/api/v1/admin/users/{user_id}/unlock',
      tags,
      summary: 'Lift a sign-in lockout',
      access: 'admin',
      responses: { 200: { description: 'Unlocked', schema: UnlockResponse }, 404: notFound },
    },
  ],
};
