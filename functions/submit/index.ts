import type { FunctionDefinition } from '../../shared/platform/function';
import { createSubmitApp } from './app';

export const submitFunction: FunctionDefinition = {
  name: 'submit',
  routes: ['/api/v1/execute'],
  triggers: [],
  sandbox: 'runtimes',
  createApp: createSubmitApp,
};
