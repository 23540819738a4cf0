import type { FunctionDefinition } from '../../shared/platform/function';
import { BASE, createApiKeysApp } from './app';

export const apiKeysFunction: FunctionDefinition = {
  name: 'api-keys',
  routes: [BASE],
  triggers: [],
  createApp: createApiKeysApp,
};
