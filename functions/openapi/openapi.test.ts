/**
 * The published OpenAPI document against the reference API's contract (test/reference/reference-api.json,
 * written by scripts/reference-contract.ts), against the routes the functions really serve, and as
 * a document OpenAPI tools can load.
 */
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiContract, apiContract, contractDifferences } from '../../shared/http/openapi/contract';
import { operationKey } from '../../shared/http/openapi/operation';
import { createEmbeddedServer } from '../../shared/platform/embedded-server';
import reference from '../../test/reference/reference-api.json';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { OPERATION_GROUPS } from '../operations';
import { FUNCTIONS } from '../registry';
import { OPENAPI_PATH, openApiDocument } from './app';

/**
 * Reference operations no function describes yet. This list must shrink to empty: an operation is
 * taken off it as its function gains an `operations.ts` entry (the test fails while both hold).
 */
const PENDING_OPERATIONS = [
  'POST /api/v1/replay/sessions',
  'GET /api/v1/replay/sessions',
  'POST /api/v1/replay/sessions/{session_id}/start',
  'POST /api/v1/replay/sessions/{session_id}/pause',
  'POST /api/v1/replay/sessions/{session_id}/resume',
  'POST /api/v1/replay/sessions/{session_id}/cancel',
  'GET /api/v1/replay/sessions/{session_id}',
  'POST /api/v1/replay/cleanup',
  'POST /api/v1/admin/events/replay',
  'GET /api/v1/admin/events/replay/{session_id}/status',
  'GET /api/v1/admin/rate-limits/defaults',
  'GET /api/v1/admin/rate-limits/{user_id}',
  'PUT /api/v1/admin/rate-limits/{user_id}',
  'POST /api/v1/admin/rate-limits/{user_id}/reset',
];

/**
 * Routes beyond the reference that are served without a description yet (as `GET /api/v1/x/{id}`,
 * no trailing slash); like PENDING_OPERATIONS, this list must shrink to empty.
 */
const UNDESCRIBED_ROUTES: string[] = [];

/** Where we differ from the reference on purpose; each must still occur, or it is taken off. */
const DELIBERATE_DIFFERENCES: { operation: string; difference: RegExp; why: string }[] = [
  {
    operation: 'POST /api/v1/auth/register',
    difference: /request property (role|is_active) is missing/,
    why: 'anyone could register as an administrator; new accounts are active users',
  },
  {
    operation: 'PUT /api/v1/scripts/{script_id}',
    difference: /request property updated_at is missing/,
    why: 'the server sets when a script changed',
  },
  ...[
    'GET /api/v1/executions/{execution_id}/events',
    'GET /api/v1/admin/users/{user_id}/overview',
    'POST /api/v1/admin/events/browse',
    'GET /api/v1/admin/events/{event_id}',
  ].map((operation) => ({
    operation,
    difference: /response property (\[\]|recent_events\[\]|events\[\]|event)\.[a-z_.[\]]+ is missing/,
    why: 'the reference lists 57 event types of its own internals (sagas, DLQ, pods); events here are the ones this platform emits',
  })),
];

const referenceContract = reference as ApiContract;
const document = openApiDocument();
const ours = apiContract(document);

describe('the OpenAPI document against the reference API', () => {
  it('has every reference operation with its parameters, fields and success status', () => {
    const used = new Set<(typeof DELIBERATE_DIFFERENCES)[number]>();
    const problems: string[] = [];
    for (const [key, facts] of Object.entries(referenceContract)) {
      if (PENDING_OPERATIONS.includes(key)) continue;
      const mine = ours[key];
      if (!mine) {
        problems.push(`${key} is not described (describe it, or list it in PENDING_OPERATIONS)`);
        continue;
      }
      for (const line of contractDifferences(key, facts, mine)) {
        const deliberate = DELIBERATE_DIFFERENCES.find((d) => d.operation === key && d.difference.test(line));
        if (deliberate) used.add(deliberate);
        else problems.push(line);
      }
    }
    for (const deliberate of DELIBERATE_DIFFERENCES)
      if (!used.has(deliberate))
        problems.push(`${deliberate.operation}: no longer differs as ${deliberate.difference}; take it off`);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('keeps PENDING_OPERATIONS to reference operations not yet described', () => {
    const stale = PENDING_OPERATIONS.filter((key) => ours[key] || !referenceContract[key]);
    expect(stale, 'described now (or not in the reference): take them off PENDING_OPERATIONS').toEqual([]);
  });
});

describe('the OpenAPI document against the served routes', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform();
  });
  afterAll(async () => {
    await platform.close();
  });

  /** `GET /api/v1/x/{id}` for Hono's `/api/v1/x/:id/`: one spelling for both sides. */
  const normalise = (method: string, path: string) =>
    `${method.toUpperCase()} ${path.replace(/:([A-Za-z_]+)/g, '{$1}').replace(/(.)\/$/, '$1')}`;
  const pending = new Set(
    PENDING_OPERATIONS.map((key) => normalise(...(key.split(' ') as [string, string]))),
  );

  it('describes every API route a function serves, and nothing no function serves', () => {
    const served = new Set<string>();
    for (const definition of FUNCTIONS)
      for (const route of definition.createApp(platform).routes)
        if (route.path.startsWith('/api/v1/') && route.method !== 'ALL')
          served.add(normalise(route.method, route.path));
    const described = new Set(
      OPERATION_GROUPS.flatMap((group) => group.operations).map((op) => normalise(op.method, op.path)),
    );
    expect(
      [...served].filter(
        (key) => !described.has(key) && !pending.has(key) && !UNDESCRIBED_ROUTES.includes(key),
      ),
      'served but not described: describe them in functions/<name>/operations.ts (a group listed in functions/operations.ts)',
    ).toEqual([]);
    expect(
      [...described].filter((key) => !served.has(key)),
      'described but not served',
    ).toEqual([]);
    expect(
      UNDESCRIBED_ROUTES.filter((key) => described.has(key) || !served.has(key)),
      'described (or no longer served) now: take them off UNDESCRIBED_ROUTES',
    ).toEqual([]);
  });

  it('serves the document at /api/v1/openapi.json to anyone, cacheable', async () => {
    const server = createEmbeddedServer(platform, FUNCTIONS);
    const response = await server.request(OPENAPI_PATH);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(response.headers.get('Cache-Control')).toBe('public, max-age=300');
    expect(await response.json()).toEqual(JSON.parse(JSON.stringify(document)));
  });
});

describe('the OpenAPI document as a document', () => {
  it('offers an API key as the alternative to the session exactly where a key may call', () => {
    const security = (method: 'get' | 'post' | 'put' | 'delete', path: string) =>
      document.paths[path]?.[method]?.security;
    const either = [{ sessionCookie: [] }, { apiKey: [] }];
    expect(security('post', '/api/v1/execute')).toEqual(either);
    expect(security('get', '/api/v1/executions/{execution_id}/result')).toEqual(either);
    expect(security('get', '/api/v1/events/executions/{execution_id}')).toEqual(either);
    expect(security('get', '/api/v1/user/api-keys')).toEqual([{ sessionCookie: [] }]);
    expect(security('delete', '/api/v1/executions/{execution_id}')).toEqual([{ sessionCookie: [] }]);
    expect(document.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('is OpenAPI 3.1 with every path parameter declared and operation ids unique', () => {
    expect(document.openapi).toBe('3.1.0');
    const ids = new Set<string>();
    for (const [path, methods] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(methods)) {
        const declared = operation.parameters.filter((p) => p.in === 'path').map((p) => p.name);
        const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        expect(declared, `${method} ${path}`).toEqual(inPath);
        expect(ids.has(operation.operationId), operation.operationId).toBe(false);
        ids.add(operation.operationId);
        expect(Object.keys(operation.responses).some((status) => status.startsWith('2'))).toBe(true);
      }
  });

  it('has JSON Schema 2020-12 a validator compiles, every $ref resolving', () => {
    const ajv = new Ajv2020({ strict: false, logger: false });
    ajv.addSchema({ $id: 'openapi', components: document.components }, 'openapi');
    for (const name of Object.keys(document.components.schemas))
      expect(() => ajv.compile({ $ref: `openapi#/components/schemas/${name}` }), name).not.toThrow();
    const text = JSON.stringify(document);
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g))
      expect(document.components.schemas, `$ref to ${name}`).toHaveProperty([name as string]);
  });

  it('names each operation by its method and path once', () => {
    const keys = OPERATION_GROUPS.flatMap((group) => group.operations).map(operationKey);
    expect(keys.length).toBe(new Set(keys).size);
  });
});
