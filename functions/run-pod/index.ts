import type { FunctionDefinition } from '../../shared/platform/function';
import { createRunPodApp } from './app';

export const runPodFunction: FunctionDefinition = {
  name: 'run-pod',
  routes: [],
  triggers: ['execution_requested', 'execution_cancelled'],
  sandbox: 'run',
  createApp: createRunPodApp,
};
