import type { FunctionDefinition } from '../../shared/platform/function';
import { BASE, createNotificationsApp } from './app';

export const notificationsFunction: FunctionDefinition = {
  name: 'notifications',
  routes: [BASE],
  triggers: [],
  createApp: createNotificationsApp,
};
