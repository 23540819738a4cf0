import type { FunctionDefinition } from '../../shared/platform/function';
import { createStoreResultApp } from './app';

export const storeResultFunction: FunctionDefinition = {
  name: 'store-result',
  routes: [],
  triggers: [
    'pod_created',
    'execution_started',
    'execution_completed',
    'execution_failed',
    'execution_timeout',
    'execution_cancelled',
  ],
  createApp: createStoreResultApp,
};
