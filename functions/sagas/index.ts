import type { FunctionDefinition } from '../../shared/platform/function';
import { BASE, createSagasApp } from './app';

export const sagasFunction: FunctionDefinition = {
  name: 'sagas',
  routes: [BASE],
  triggers: [],
  createApp: createSagasApp,
};
