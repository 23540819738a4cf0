import type { FunctionDefinition } from '../../shared/platform/function';
import { BASE, createAdminEventsApp } from './app';
import { DEAD_LETTERS } from './dead-letters';

export const adminEventsFunction: FunctionDefinition = {
  name: 'admin-events',
  routes: [BASE, DEAD_LETTERS],
  triggers: [],
  createApp: createAdminEventsApp,
};
