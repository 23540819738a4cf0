import type { FunctionDefinition } from '../../shared/platform/function';
import { BASE, createAdminUsersApp } from './app';

export const adminUsersFunction: FunctionDefinition = {
  name: 'admin-users',
  routes: [BASE],
  triggers: [],
  createApp: createAdminUsersApp,
};
