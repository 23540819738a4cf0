import type { FunctionDefinition } from '../../shared/platform/function';
import { BASE, createSavedScriptsApp } from './app';

export const savedScriptsFunction: FunctionDefinition = {
  name: 'saved-scripts',
  routes: [BASE],
  triggers: [],
  // Saved scripts name a runtime the sandbox offers, checked as a run would check it.
  sandbox: 'runtimes',
  createApp: createSavedScriptsApp,
};
