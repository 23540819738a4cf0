import type { FunctionDefinition } from '../../shared/platform/function';
import { createAuthApp } from './app';

export const authFunction: FunctionDefinition = {
  name: 'auth',
  routes: ['/api/v1/auth'],
  triggers: [],
  createApp: createAuthApp,
};
