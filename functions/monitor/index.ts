import type { FunctionDefinition } from '../../shared/platform/function';
import { createMonitorApp } from './app';

export const monitorFunction: FunctionDefinition = {
  name: 'monitor',
  routes: [],
  triggers: ['pod_terminated'],
  createApp: createMonitorApp,
};
