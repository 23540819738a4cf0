/**
 * The OpenAPI 3.1 document of the API, built from the operation descriptors. Schemas become JSON Schema
 * 2020-12 as the request side reads them (before any transformation), and a schema named by a group is
 * published once under `components.schemas` and referenced everywhere it is used.
 */
import {
  type ConversionConfig,
  type JsonSchema,
  toJsonSchema,
  toJsonSchemaDefs,
} from '@valibot/to-json-schema';
import * as v from 'valibot';
import { scopeForRoute } from '../../auth/api-keys';
import {
  type AnySchema,
  EVENT_STREAM,
  type Operation,
  type OperationGroup,
  operationKey,
  type ParamsSchema,
} from './operation';

export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
};

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

export interface OpenApiOperation {
  tags: string[];
  summary: string;
  operationId: string;
  parameters: OpenApiParameter[];
  requestBody?: { required: true; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  security?: Record<string, string[]>[];
}

/** `{detail, type}`: what every refused request other than invalid input answers. */
export const ErrorResponseSchema = v.object({ detail: v.string(), type: v.string() });
const ValidationErrorSchema = v.object({
  loc: v.array(v.union([v.string(), v.number()])),
  msg: v.string(),
  type: v.string(),
});
/** 422: every field at fault, each with where it is and what is wrong. */
export const HttpValidationErrorSchema = v.object({ detail: v.array(ValidationErrorSchema) });

const BUILT_IN: Record<string, AnySchema> = {
  ErrorResponse: ErrorResponseSchema,
  HTTPValidationError: HttpValidationErrorSchema,
  ValidationError: ValidationErrorSchema,
};

const SESSION = { sessionCookie: [] };
/** Operations an API key may call take it as an alternative to the session. */
const securityOf = (operation: Operation) =>
  scopeForRoute(operation.method.toUpperCase(), operation.path.replace(/\{[^}]+\}/g, 'id'))
    ? [SESSION, { apiKey: [] }]
    : [SESSION];

/** One Server-Sent Event whose `data` line is a JSON document of `data` (as OpenAPI 3.2 describes streams). */
const eventStream = (data: JsonSchema): JsonSchema => ({
  type: 'object',
  properties: {
    id: { type: 'string' },
    event: { type: 'string' },
    // contentSchema is JSON Schema 2020-12, newer than the draft-07 type this library exports.
    data: { type: 'string', contentMediaType: 'application/json', contentSchema: data } as JsonSchema,
  },
  required: ['data'],
});

/** The schemas of every group under their names; one name must mean one schema. */
function namedSchemas(groups: readonly OperationGroup[]): Record<string, AnySchema> {
  const named: Record<string, AnySchema> = { ...BUILT_IN };
  for (const group of groups)
    for (const [name, schema] of Object.entries(group.schemas)) {
      if (named[name] && named[name] !== schema) throw new Error(`Two schemas are named ${name}`);
      named[name] = schema;
    }
  return named;
}

const operationId = ({ method, path }: Operation) =>
  `${method}_${path
    .replace(/^\/api\/v1\//, '')
    .replace(/[{}]/g, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/_$/, '')}`;

const pathParamNames = (path: string) =>
  [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string);

export function buildOpenApiDocument(
  groups: readonly OperationGroup[],
  info: OpenApiDocument['info'],
): OpenApiDocument {
  const definitions = namedSchemas(groups);
  const config: ConversionConfig = {
    target: 'draft-2020-12',
    // Requests are described as sent; responses are plain data, so input and output agree.
    typeMode: 'input',
    // Checks JSON Schema cannot say (custom predicates, transformations) stay in the code.
    errorMode: 'ignore',
    overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
    overrideAction: ({ valibotAction, jsonSchema }) => {
      // `v.metadata({ jsonSchema })` says what a value read from text stands for (a query integer).
      const { metadata, requirement } = valibotAction as {
        metadata?: { jsonSchema?: JsonSchema };
        requirement?: unknown;
      };
      if (metadata?.jsonSchema) return metadata.jsonSchema;
      // Unicode property escapes (\p{Cc}) are valid ECMA-262, but test generators cannot build values
      // for them; such a pattern stays a check of the code.
      if (!(requirement instanceof RegExp) || !requirement.source.includes('\\p{')) return undefined;
      const { pattern: _pattern, ...rest } = jsonSchema;
      return rest;
    },
  };
  const convert = (schema: AnySchema): JsonSchema => {
    const { $schema: _version, $defs: _defs, ...json } = toJsonSchema(schema, { ...config, definitions });
    return json;
  };

  /** One parameter per property of an object schema, `required` as the schema says. */
  const parameters = (
    where: OpenApiParameter['in'],
    schema: ParamsSchema | undefined,
  ): OpenApiParameter[] => {
    if (!schema) return [];
    const json = convert(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
    return Object.entries(json.properties ?? {}).map(([name, property]) => ({
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      // A default given as the text the code reads (`limit=100`) is shown as the value it stands for.
      schema:
        property.type === 'integer' && typeof property.default === 'string'
          ? { ...property, default: Number(property.default) }
          : property,
    }));
  };

  const paths: OpenApiDocument['paths'] = {};
  const seen = new Set<string>();
  for (const group of groups)
    for (const operation of group.operations) {
      const key = operationKey(operation);
      if (seen.has(key)) throw new Error(`${key} is described twice`);
      seen.add(key);

      const described = parameters('path', operation.params);
      const names = pathParamNames(operation.path);
      for (const parameter of described)
        if (!names.includes(parameter.name))
          throw new Error(`${key} describes path parameter ${parameter.name} it does not have`);
      const pathParams = names.map(
        (name) =>
          described.find((parameter) => parameter.name === name) ?? {
            name,
            in: 'path' as const,
            required: true,
            schema: { type: 'string' as const },
          },
      );

      const responses: OpenApiOperation['responses'] = {};
      for (const [status, response] of Object.entries(operation.responses)) {
        const schema = response.schema ?? (Number(status) >= 400 ? ErrorResponseSchema : undefined);
        const mediaType = response.mediaType ?? 'application/json';
        responses[status] = {
          description: response.description,
          ...(schema && {
            content: {
              [mediaType]: {
                schema: mediaType === EVENT_STREAM ? eventStream(convert(schema)) : convert(schema),
              },
            },
          }),
        };
      }
      const error = (status: number, description: string, schema: AnySchema = ErrorResponseSchema) => {
        responses[status] ??= { description, content: { 'application/json': { schema: convert(schema) } } };
      };
      // A signed-in request that changes state must carry the CSRF token, whatever the operation.
      const csrf = operation.method === 'get' ? '' : 'the CSRF token is missing or wrong';
      if (operation.access !== 'public') error(401, 'Not signed in');
      if (operation.access === 'admin') error(403, `Not an administrator${csrf && `, or ${csrf}`}`);
      if (csrf) error(403, `Signed in, but ${csrf}`);
      if (operation.body) error(413, 'The body is over the size limit');
      if (names.length > 0 || operation.query || operation.body)
        error(422, 'Invalid input', HttpValidationErrorSchema);

      const body = operation.body;
      paths[operation.path] ??= {};
      (paths[operation.path] as Record<string, OpenApiOperation>)[operation.method] = {
        tags: [...operation.tags],
        summary: operation.summary,
        operationId: operationId(operation),
        parameters: [
          ...pathParams,
          ...parameters('query', operation.query),
          ...parameters('header', operation.headers),
        ],
        ...(body && {
          requestBody: {
            required: true,
            content:
              'json' in body
                ? { 'application/json': { schema: convert(body.json) } }
                : { 'application/x-www-form-urlencoded': { schema: convert(body.form) } },
          },
        }),
        responses,
        ...(operation.access !== 'public' && { security: securityOf(operation) }),
      };
    }

  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: toJsonSchemaDefs(definitions, config),
      securitySchemes: {
        // Signed-in requests that change state also send the csrf_token cookie's value as X-CSRF-Token.
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'access_token' },
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (i8c_…) from POST /api/v1/user/api-keys, within its scopes',
        },
      },
    },
  };
}
