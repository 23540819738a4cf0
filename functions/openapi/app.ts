/**
 * openapi: serves the API's OpenAPI 3.1 document, built once from the operation descriptors. Public
 * and the same for everyone, so caches may keep it for a while.
 */
import { buildOpenApiDocument } from '../../shared/http/openapi/document';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { OPERATION_GROUPS } from '../operations';
import { OPENAPI_PATH } from './operations';

export { OPENAPI_PATH };

export const openApiDocument = () =>
  buildOpenApiDocument(OPERATION_GROUPS, {
    title: 'Integr8sCode',
    version: '0.1.0',
    description: 'Run scripts in isolated sandboxes and follow their output live.',
  });

export function createOpenApiApp(platform: Platform) {
  const app = createFunctionApp(platform, 'openapi', { publishes: false });
  const document = JSON.stringify(openApiDocument());
  app.get(OPENAPI_PATH, (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    c.header('Content-Type', 'application/json');
    return c.body(document);
  });
  return app;
}
