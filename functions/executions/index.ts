import type { FunctionDefinition } from '../../shared/platform/function';
import { createExecutionsApp } from './app';

export const executionsFunction: FunctionDefinition = {
  name: 'executions',
  routes: [
    '/api/v1/executions',
    '/api/v1/user/executions',
    '/api/v1/example-scripts',
    '/api/v1/k8s-limits',
    '/api/v1/health',
  ],
  triggers: [],
  sandbox: 'runtimes',
  createApp: createExecutionsApp,
};
