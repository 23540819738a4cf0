import type { FunctionDefinition } from '../../shared/platform/function';
import { BASE, createUserSettingsApp } from './app';

export const userSettingsFunction: FunctionDefinition = {
  name: 'user-settings',
  routes: [BASE],
  triggers: [],
  createApp: createUserSettingsApp,
};
