import type { FunctionDefinition } from '../../shared/platform/function';
import { createStreamSseApp } from './app';

export const streamSseFunction: FunctionDefinition = {
  name: 'stream-sse',
  routes: ['/api/v1/events'],
  triggers: [],
  streaming: true,
  createApp: createStreamSseApp,
};
