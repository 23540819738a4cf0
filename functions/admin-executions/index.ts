import type { FunctionDefinition } from '../../shared/platform/function';
import { BASE, createAdminExecutionsApp } from './app';

export const adminExecutionsFunction: FunctionDefinition = {
  name: 'admin-executions',
  routes: [BASE],
  triggers: [],
  createApp: createAdminExecutionsApp,
};
