/** Every function of the product. The embedded server, the bundler and the manifests read this list. */
import type { FunctionDefinition } from '../shared/platform/function';
import { adminAuditFunction } from './admin-audit';
import { adminConfigFunction } from './admin-config';
import { adminEventsFunction } from './admin-events';
import { adminExecutionsFunction } from './admin-executions';
import { adminUsersFunction } from './admin-users';
import { apiKeysFunction } from './api-keys';
import { authFunction } from './auth';
import { executionsFunction } from './executions';
import { monitorFunction } from './monitor';
import { notificationsFunction } from './notifications';
import { notifyFunction } from './notify';
import { openapiFunction } from './openapi';
import { runPodFunction } from './run-pod';
import { sagasFunction } from './sagas';
import { savedScriptsFunction } from './saved-scripts';
import { storeResultFunction } from './store-result';
import { streamSseFunction } from './stream-sse';
import { submitFunction } from './submit';
import { userSettingsFunction } from './user-settings';

export const FUNCTIONS: readonly FunctionDefinition[] = [
  authFunction,
  submitFunction,
  executionsFunction,
  notificationsFunction,
  savedScriptsFunction,
  userSettingsFunction,
  apiKeysFunction,
  adminUsersFunction,
  adminEventsFunction,
  adminAuditFunction,
  adminConfigFunction,
  adminExecutionsFunction,
  sagasFunction,
  streamSseFunction,
  runPodFunction,
  monitorFunction,
  storeResultFunction,
  notifyFunction,
  openapiFunction,
];
