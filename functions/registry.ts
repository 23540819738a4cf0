/** Every function of the product. The embedded server, the bundler and the manifests read this list. */
import type { FunctionDefinition } from '../shared/platform/function';
import { authFunction } from './auth';
import { executionsFunction } from './executions';
import { monitorFunction } from './monitor';
import { notificationsFunction } from './notifications';
import { notifyFunction } from './notify';
import { runPodFunction } from './run-pod';
import { storeResultFunction } from './store-result';
import { streamSseFunction } from './stream-sse';
import { submitFunction } from './submit';

export const FUNCTIONS: readonly FunctionDefinition[] = [
  authFunction,
  submitFunction,
  executionsFunction,
  notificationsFunction,
  streamSseFunction,
  runPodFunction,
  monitorFunction,
  storeResultFunction,
  notifyFunction,
];
