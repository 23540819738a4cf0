import { TERMINAL_EXECUTION_EVENTS } from '../../shared/events/schemas';
import type { FunctionDefinition } from '../../shared/platform/function';
import { createNotifyApp } from './app';

export const notifyFunction: FunctionDefinition = {
  name: 'notify',
  routes: [],
  triggers: TERMINAL_EXECUTION_EVENTS,
  createApp: createNotifyApp,
};
