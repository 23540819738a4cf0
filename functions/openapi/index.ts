import type { FunctionDefinition } from '../../shared/platform/function';
import { createOpenApiApp, OPENAPI_PATH } from './app';

export const openapiFunction: FunctionDefinition = {
  name: 'openapi',
  routes: [OPENAPI_PATH],
  triggers: [],
  createApp: createOpenApiApp,
};
