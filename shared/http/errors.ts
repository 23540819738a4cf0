/**
 * Error responses in the reference API's shapes: `{detail, type}` for domain errors and
 * `{detail: [{loc, msg, type}]}` with 422 for invalid input. Nothing a user sends may become a 5xx.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import * as v from 'valibot';

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly detail: string,
    readonly type: string = HttpError.typeFor(status),
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'HttpError';
  }

  static typeFor(status: number): string {
    const names: Record<number, string> = {
      400: 'InvalidStateError',
      401: 'UnauthorizedError',
      403: 'ForbiddenError',
      404: 'NotFoundError',
      409: 'ConflictError',
      413: 'PayloadTooLargeError',
      415: 'UnsupportedMediaTypeError',
      422: 'ValidationError',
      423: 'AccountLockedError',
      429: 'ThrottledError',
      503: 'ServiceUnavailableError',
    };
    return names[status] ?? 'Error';
  }
}

export const badRequest = (detail: string) => new HttpError(400, detail);
export const unauthorized = (detail = 'Not authenticated') => new HttpError(401, detail);
export const forbidden = (detail = 'Not allowed') => new HttpError(403, detail);
export const notFound = (detail: string) => new HttpError(404, detail);
export const conflict = (detail: string) => new HttpError(409, detail);

export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export class ValidationFailed extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '));
    this.name = 'ValidationFailed';
  }
}

/** Validates `input` against `schema`, throwing a 422 that names every field at fault. */
export function validate<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  location: 'body' | 'query' | 'path' | 'header',
): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  throw new ValidationFailed(
    result.issues.map((issue) => ({
      loc: [location, ...(issue.path?.map((p) => p.key as string | number) ?? [])],
      msg: issue.message,
      type: issue.type,
    })),
  );
}

/** Reads a JSON body, answering 422 for malformed JSON instead of failing. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '')
    throw new ValidationFailed([{ loc: ['body'], msg: 'Request body is required', type: 'missing' }]);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationFailed([
      { loc: ['body'], msg: `Malformed JSON: ${(error as Error).message}`, type: 'json_invalid' },
    ]);
  }
}

export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads a JSON body that must be an object; an array or a string is a 422, not an empty request. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const body = await readJson(c);
  if (!isJsonObject(body))
    throw new ValidationFailed([{ loc: ['body'], msg: 'must be a JSON object', type: 'object' }]);
  return body;
}

/** Hono `onError`: known errors become their status; anything else is logged and answered 500. */
export function errorResponse(error: unknown, c: Context, log?: (e: unknown) => void): Response {
  if (error instanceof HttpError) {
    return c.json({ detail: error.detail, type: error.type }, error.status, error.headers);
  }
  if (error instanceof ValidationFailed) {
    return c.json({ detail: error.issues }, 422);
  }
  // Hono's own HTTPException (e.g. from the body-limit middleware) carries its response.
  if (error instanceof HTTPException && error.status < 500) {
    return c.json(
      { detail: error.message || 'Bad request', type: HttpError.typeFor(error.status) },
      error.status,
    );
  }
  log?.(error);
  return c.json({ detail: 'Internal server error', type: 'InternalError' }, 500);
}
