/**
 * The facts of an OpenAPI document a client depends on, per operation: its parameters, the property
 * names of its request body and success response (nested, as `a.b`, `list[].c`), and its success
 * status. Read from the reference document by `scripts/reference-contract.ts` and from ours by the
 * comparison test, so both sides are read the same way.
 */

export interface OperationFacts {
  /** Path and query parameter names, sorted. */
  params: string[];
  body: string[];
  status: string;
  response: string[];
}

export type ApiContract = Record<string, OperationFacts>;

type Json = Record<string, unknown>;

interface DocumentLike {
  paths: Record<string, Record<string, object>>;
  components?: { schemas?: Record<string, unknown> };
}

/** Deeper than any real payload of this API; stops a self-referencing schema. */
const MAX_DEPTH = 8;

/** Every property path a value of `schema` may have, through `$ref`s, unions and arrays. */
export function propertyPaths(schema: unknown, document: DocumentLike): string[] {
  const found = new Set<string>();
  const walk = (node: unknown, prefix: string, depth: number, refs: readonly string[]) => {
    if (!node || typeof node !== 'object' || depth > MAX_DEPTH) return;
    const s = node as Json;
    if (typeof s.$ref === 'string') {
      if (refs.includes(s.$ref)) return;
      const name = s.$ref.replace('#/components/schemas/', '');
      walk(document.components?.schemas?.[name], prefix, depth, [...refs, s.$ref]);
    }
    for (const key of ['anyOf', 'oneOf', 'allOf'])
      if (Array.isArray(s[key])) for (const option of s[key] as unknown[]) walk(option, prefix, depth, refs);
    if (s.items) walk(s.items, `${prefix}[]`, depth + 1, refs);
    if (s.properties && typeof s.properties === 'object')
      for (const [name, property] of Object.entries(s.properties as Json)) {
        const path = prefix ? `${prefix}.${name}` : name;
        found.add(path);
        walk(property, path, depth + 1, refs);
      }
  };
  walk(schema, '', 0, []);
  return [...found].sort();
}

/** The schema of the first media type; for an event stream, that of each event's data. */
function firstSchema(content: unknown): unknown {
  if (!content || typeof content !== 'object') return null;
  const [mediaType, described] = Object.entries(content as Record<string, { schema?: Json }>)[0] ?? [];
  const schema = described?.schema ?? null;
  const data = (schema?.properties as Record<string, Json> | undefined)?.data;
  return mediaType === 'text/event-stream' && data?.contentSchema ? data.contentSchema : schema;
}

export function apiContract(document: DocumentLike): ApiContract {
  const contract: ApiContract = {};
  for (const [path, methods] of Object.entries(document.paths))
    for (const [method, described] of Object.entries(methods)) {
      const operation = described as Json;
      const parameters = (operation.parameters ?? []) as { name: string; in: string }[];
      const responses = (operation.responses ?? {}) as Record<string, { content?: unknown }>;
      const status =
        Object.keys(responses)
          .filter((code) => code.startsWith('2'))
          .sort()[0] ?? '';
      contract[`${method.toUpperCase()} ${path}`] = {
        params: parameters
          .filter((parameter) => parameter.in === 'path' || parameter.in === 'query')
          .map((parameter) => parameter.name)
          .sort(),
        body: propertyPaths(firstSchema((operation.requestBody as Json | undefined)?.content), document),
        status,
        response: propertyPaths(firstSchema(responses[status]?.content), document),
      };
    }
  return contract;
}

/**
 * What `ours` lacks of `reference` for one operation, one line each: a missing parameter or property
 * (a renamed one shows as missing), or another success status. Additions are allowed.
 */
export function contractDifferences(key: string, reference: OperationFacts, ours: OperationFacts): string[] {
  const missing = (what: string, expected: string[], actual: string[]) =>
    expected.filter((name) => !actual.includes(name)).map((name) => `${key}: ${what} ${name} is missing`);
  return [
    ...missing('parameter', reference.params, ours.params),
    ...missing('request property', reference.body, ours.body),
    ...(reference.status === ours.status
      ? []
      : [`${key}: answers ${ours.status || 'nothing'} on success, the reference ${reference.status}`]),
    ...missing('response property', reference.response, ours.response),
  ];
}
