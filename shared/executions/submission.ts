/**
 * Accepting an execution: validate against the runtimes the sandbox really has, honour the
 * Idempotency-Key, persist `queued`, publish `execution_requested`. Used by submit and by retry.
 */

import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { formatBytes } from '../config/config';
import { effectiveSettings } from '../config/effective-settings';
import { type ExecutionStatus, newExecution, type QueuePriority } from '../domain/execution';
import type { Principal } from '../domain/user';
import type { EventOf } from '../events/schemas';
import { conflict, HttpError, ValidationFailed } from '../http/errors';
import type { Platform } from '../platform/platform';

export const MAX_SCRIPT_CHARS = 50_000;
export const MAX_STDIN_CHARS = 65_536;

export const ExecutionRequestSchema = v.object({
  script: v.pipe(
    v.string('script must be a string'),
    v.minLength(1, 'script must not be empty'),
    v.maxLength(
      MAX_SCRIPT_CHARS,
      `script must be at most ${MAX_SCRIPT_CHARS.toLocaleString('en')} characters`,
    ),
  ),
  lang: v.optional(v.pipe(v.string('lang must be a string'), v.maxLength(32)), 'python'),
  lang_version: v.optional(v.pipe(v.string('lang_version must be a string'), v.maxLength(32))),
  stdin: v.optional(
    v.pipe(
      v.string('stdin must be a string'),
      v.maxLength(MAX_STDIN_CHARS, `stdin must be at most ${MAX_STDIN_CHARS} characters`),
    ),
    '',
  ),
});
export type ExecutionRequest = v.InferOutput<typeof ExecutionRequestSchema>;

export interface ExecutionAccepted {
  execution_id: string;
  status: ExecutionStatus;
}

/** Picks the requested runtime, or the newest version of the language when none is given. */
export function resolveRuntime(
  platform: Platform,
  lang: string,
  version: string | undefined,
): { lang: string; version: string } {
  const runtimes = platform.sandbox.runtimes();
  const versions = runtimes.filter((r) => r.language === lang).map((r) => r.version);
  if (versions.length === 0) {
    const known = [...new Set(runtimes.map((r) => r.language))].join(', ');
    throw new ValidationFailed([
      { loc: ['body', 'lang'], msg: `Unsupported language '${lang}'; available: ${known}`, type: 'enum' },
    ]);
  }
  if (version === undefined) {
    return { lang, version: versions.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))[0]! };
  }
  if (!versions.includes(version)) {
    throw new ValidationFailed([
      {
        loc: ['body', 'lang_version'],
        msg: `Unsupported ${lang} version '${version}'; available: ${versions.join(', ')}`,
        type: 'enum',
      },
    ]);
  }
  return { lang, version };
}

interface IdempotencyRecord {
  state: 'processing' | 'done';
  fingerprint: string;
  response?: ExecutionAccepted;
}

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** A `processing` record older than this belongs to a crashed attempt and may be taken over. */
const IDEMPOTENCY_STALE_MS = 5 * 60 * 1000;

export interface SubmitOptions {
  idempotencyKey?: string;
  traceparent?: string;
  priority?: QueuePriority;
}

export async function submitExecution(
  platform: Platform,
  user: Principal,
  request: ExecutionRequest,
  options: SubmitOptions = {},
): Promise<ExecutionAccepted> {
  const runtime = resolveRuntime(platform, request.lang, request.lang_version);
  if (!options.idempotencyKey) return accept(platform, user, request, runtime, options);

  const key = `idempotency:execute:${user.user_id}:${options.idempotencyKey}`;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([request.script, runtime.lang, runtime.version, request.stdin]))
    .digest('hex');
  const claim: IdempotencyRecord = { state: 'processing', fingerprint };
  const claimed = await platform.kv.set(key, JSON.stringify({ ...claim, at: Date.now() }), {
    ttlMs: IDEMPOTENCY_TTL_MS,
    onlyIfAbsent: true,
  });
  if (!claimed) {
    const existing = JSON.parse((await platform.kv.get(key)) ?? 'null') as
      | (IdempotencyRecord & { at: number })
      | null;
    if (existing && existing.fingerprint !== fingerprint) {
      throw new HttpError(
        422,
        'Idempotency-Key was already used with a different request body',
        'IdempotencyKeyReused',
      );
    }
    if (existing?.state === 'done' && existing.response) return existing.response;
    if (existing && Date.now() - existing.at < IDEMPOTENCY_STALE_MS) {
      throw conflict('A request with this Idempotency-Key is still being processed');
    }
    await platform.kv.set(key, JSON.stringify({ ...claim, at: Date.now() }), { ttlMs: IDEMPOTENCY_TTL_MS });
  }
  try {
    const response = await accept(platform, user, request, runtime, options);
    const done: IdempotencyRecord = { state: 'done', fingerprint, response };
    await platform.kv.set(key, JSON.stringify({ ...done, at: Date.now() }), { ttlMs: IDEMPOTENCY_TTL_MS });
    return response;
  } catch (error) {
    // A failed attempt must not poison the key: the client may retry with it.
    await platform.kv.delete(key);
    throw error;
  }
}

async function accept(
  platform: Platform,
  user: Principal,
  request: ExecutionRequest,
  runtime: { lang: string; version: string },
  options: SubmitOptions,
): Promise<ExecutionAccepted> {
  const { config } = platform;
  const limits = await effectiveSettings(platform);
  const execution = newExecution({
    execution_id: crypto.randomUUID(),
    user_id: user.user_id,
    script: request.script,
    stdin: request.stdin,
    lang: runtime.lang,
    lang_version: runtime.version,
    priority: options.priority ?? 'normal',
    created_at: platform.now().toISOString(),
  });
  const event = platform.events.create<EventOf<'execution_requested'>>(
    {
      event_type: 'execution_requested',
      execution_id: execution.execution_id,
      script: execution.script,
      stdin: execution.stdin,
      language: execution.lang,
      language_version: execution.lang_version,
      timeout_seconds: limits.max_timeout_seconds,
      cpu_limit: limits.cpu_limit,
      memory_limit: limits.memory_limit,
      cpu_request: config.CPU_REQUEST,
      memory_request: formatBytes(config.MEMORY_REQUEST),
      priority: execution.priority,
    },
    { userId: user.user_id, traceparent: options.traceparent },
  );
  try {
    await platform.events.publish(event, {
      writeAlongside: () => platform.store.executions.create(execution),
    });
  } catch (error) {
    // Stored but not handed on, or the record not written: either way nothing will run it.
    const message = `Could not queue the execution: ${(error as Error).message}`;
    await platform.store.executions
      .transition(execution.execution_id, ['queued'], {
        status: 'error',
        error_type: 'system_error',
        error_message: message,
        updated_at: platform.now().toISOString(),
        finished_at: platform.now().toISOString(),
      })
      .catch(() => null); // the store may be what failed; the caller is told either way
    throw new HttpError(503, message);
  }
  return { execution_id: execution.execution_id, status: 'queued' };
}
