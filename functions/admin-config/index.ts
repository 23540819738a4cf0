import type { FunctionDefinition } from '../../shared/platform/function';
import { BASE, createAdminConfigApp } from './app';

export const adminConfigFunction: FunctionDefinition = {
  name: 'admin-config',
  routes: [BASE],
  triggers: [],
  createApp: createAdminConfigApp,
};
