/**
 * What the API promises, one descriptor per operation, written in the valibot schemas the handlers
 * validate with, so the published document cannot drift from what the code accepts and returns.
 * Each function declares its operations in `functions/<name>/operations.ts`; `functions/operations.ts`
 * lists them all and `document.ts` turns them into the OpenAPI document.
 */
import * as v from 'valibot';

export type AnySchema = v.GenericSchema;
/** Path and query parameters: one object schema, a property per parameter. */
export type ParamsSchema = v.ObjectSchema<v.ObjectEntries, v.ErrorMessage<v.ObjectIssue> | undefined>;

/** The media type of Server-Sent Events; a response of it describes each event's JSON data. */
export const EVENT_STREAM = 'text/event-stream';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call: anyone, a signed-in user (else 401), or an administrator (else 401/403). */
export type Access = 'public' | 'user' | 'admin';

export interface ResponseSpec {
  description: string;
  /** The body's schema; absent for an empty body. */
  schema?: AnySchema;
  /** Defaults to application/json; `text/event-stream` for SSE (the schema is one event's data). */
  mediaType?: string;
}

export interface Operation {
  method: HttpMethod;
  /** OpenAPI style, `{param}` for path parameters, exactly as the reference writes it. */
  path: `/api/v1/${string}`;
  tags: readonly string[];
  summary: string;
  access: Access;
  /** Path parameters; any `{param}` not described here is a plain string. */
  params?: ParamsSchema;
  query?: ParamsSchema;
  /** Request headers the operation reads, by name. */
  headers?: ParamsSchema;
  body?: { json: AnySchema } | { form: AnySchema };
  /** Success and domain-specific error responses; 401/403/422 follow from `access` and the inputs. */
  responses: Readonly<Record<number, ResponseSpec>>;
}

/** A function's share of the document: its operations and the schemas named in `components`. */
export interface OperationGroup {
  /** Schemas published under these names; every use of the same schema object becomes a `$ref`. */
  schemas: Readonly<Record<string, AnySchema>>;
  operations: readonly Operation[];
}

/** The method and path that name an operation, as `GET /api/v1/...`. */
export const operationKey = (operation: Pick<Operation, 'method' | 'path'>): string =>
  `${operation.method.toUpperCase()} ${operation.path}`;

/** `MessageResponse`: a confirmation in words, the answer of operations that return nothing else. */
export const MessageResponseSchema = v.object({ message: v.string() });
