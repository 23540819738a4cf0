/**
 * Every function's operations, in the order the OpenAPI document lists them. A function that serves
 * API paths adds its `operations.ts` group here; `functions/openapi/openapi.test.ts` fails while a
 * served route has no description.
 */
import type { OperationGroup } from '../shared/http/openapi/operation';
import { adminAuditOperations } from './admin-audit/operations';
import { adminConfigOperations } from './admin-config/operations';
import { adminEventsOperations } from './admin-events/operations';
import { adminExecutionsOperations } from './admin-executions/operations';
import { adminUsersOperations } from './admin-users/operations';
import { apiKeysOperations } from './api-keys/operations';
import { authOperations } from './auth/operations';
import { executionsOperations } from './executions/operations';
import { notificationsOperations } from './notifications/operations';
import { openapiOperations } from './openapi/operations';
import { sagasOperations } from './sagas/operations';
import { savedScriptsOperations } from './saved-scripts/operations';
import { streamSseOperations } from './stream-sse/operations';
import { submitOperations } from './submit/operations';
import { userSettingsOperations } from './user-settings/operations';

export const OPERATION_GROUPS: readonly OperationGroup[] = [
  authOperations,
  submitOperations,
  executionsOperations,
  savedScriptsOperations,
  streamSseOperations,
  adminUsersOperations,
  adminEventsOperations,
  adminAuditOperations,
  adminConfigOperations,
  adminExecutionsOperations,
  sagasOperations,
  userSettingsOperations,
  notificationsOperations,
  apiKeysOperations,
  openapiOperations,
];
