import type { FunctionDefinition } from '../../shared/platform/function';
import { BASE, createAdminEventsApp } from './app';

export const adminEventsFunction: FunctionDefinition = {
  name: 'admin-events',
  routes: [BASE],
  triggers: [],
  createApp: createAdminEventsApp,
};
