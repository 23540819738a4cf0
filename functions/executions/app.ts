/**
 * executions: reading, cancelling, retrying and deleting executions, plus the catalogue a client
 * needs before submitting (runtimes, limits, examples).
 */
import type { Context } from 'hono';
import { recordAudit } from '../../shared/audit/record';
import { formatBytes } from '../../shared/config/config';
import { effectiveSettings } from '../../shared/config/effective-settings';
import { changedFields } from '../../shared/domain/audit';
import { type ExecutionRecord, isTerminal, toExecutionResult } from '../../shared/domain/execution';
import type { Principal } from '../../shared/domain/user';
import { requestCancellation } from '../../shared/executions/cancellation';
import { EXAMPLE_SCRIPTS } from '../../shared/executions/examples';
import { submitExecution } from '../../shared/executions/submission';
import { canAccess, currentUser, requireAdmin } from '../../shared/http/auth';
import { badRequest, forbidden, HttpError, notFound, readJson, validate } from '../../shared/http/errors';
import { UuidSchema } from '../../shared/http/params';
import { type AppEnv, createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { CancelSchema, EventsQuerySchema, ListQuerySchema } from './requests';

const STARTED_AT = Date.now();

export function createExecutionsApp(platform: Platform) {
  const app = createFunctionApp(platform, 'executions');
  const { store } = platform;

  /** The execution behind `:execution_id`, if the caller may see it. */
  async function accessible(c: Context<AppEnv>): Promise<{ user: Principal; execution: ExecutionRecord }> {
    const user = currentUser(c);
    const id = validate(UuidSchema, c.req.param('execution_id'), 'path');
    const execution = await store.executions.get(id);
    if (!execution) throw notFound('Execution not found');
    if (!canAccess(user, execution.user_id)) throw forbidden('Not the owner of this execution');
    return { user, execution };
  }

  app.get('/api/v1/executions/:execution_id/result', async (c) => {
    const { execution } = await accessible(c);
    return c.json(toExecutionResult(execution));
  });

  app.post('/api/v1/executions/:execution_id/cancel', async (c) => {
    const { user, execution } = await accessible(c);
    const body = (await c.req.text()).trim() ? await readJson(c) : {};
    const { reason } = validate(CancelSchema, body, 'body');
    if (execution.status === 'cancelled') {
      return c.json({
        execution_id: execution.execution_id,
        status: 'already_cancelled',
        message: 'Execution was already cancelled',
        event_id: null,
      });
    }
    if (isTerminal(execution.status))
      throw badRequest(`Cannot cancel an execution in status ${execution.status}`);
    const event = await requestCancellation(platform, execution, user.user_id, reason);
    return c.json({
      execution_id: execution.execution_id,
      status: 'cancellation_requested',
      message: 'Cancellation requested; the sandbox is being stopped',
      event_id: event.event_id,
    });
  });

  app.post('/api/v1/executions/:execution_id/retry', async (c) => {
    const { user, execution } = await accessible(c);
    if (!isTerminal(execution.status))
      throw badRequest(`Cannot retry an execution in status ${execution.status}`);
    const accepted = await submitExecution(
      platform,
      user,
      {
        script: execution.script,
        lang: execution.lang,
        lang_version: execution.lang_version,
        stdin: execution.stdin,
      },
      { traceparent: c.req.header('traceparent') },
    );
    return c.json(accepted);
  });

  app.get('/api/v1/executions/:execution_id/events', async (c) => {
    const { execution } = await accessible(c);
    const query = validate(
      EventsQuerySchema,
      { event_types: c.req.queries('event_types'), limit: c.req.query('limit') },
      'query',
    );
    const events = await store.events.listByAggregate(execution.execution_id, {
      eventTypes: query.event_types,
      limit: query.limit,
    });
    return c.json(events.map((stored) => stored.event));
  });

  app.delete('/api/v1/executions/:execution_id', async (c) => {
    const admin = requireAdmin(c);
    const id = validate(UuidSchema, c.req.param('execution_id'), 'path');
    const execution = await store.executions.get(id);
    if (!execution) throw notFound('Execution not found');
    // Stop the sandbox before the record goes, so nothing keeps running for a deleted execution.
    if (!isTerminal(execution.status))
      await requestCancellation(platform, execution, admin.user_id, 'Execution deleted by an administrator');
    await store.executions.delete(id);
    await recordAudit(platform, {
      actor: admin,
      action: 'execution.delete',
      target: { type: 'execution', id },
      changes: changedFields(null, { user_id: execution.user_id, status: execution.status }),
    });
    return c.json({ message: 'Execution deleted successfully', execution_id: id });
  });

  app.get('/api/v1/user/executions', async (c) => {
    const user = currentUser(c);
    const query = validate(ListQuerySchema, c.req.query(), 'query');
    if (query.start_time && query.end_time && query.start_time > query.end_time) {
      throw new HttpError(422, 'start_time must not be after end_time', 'ValidationError');
    }
    const page = await store.executions.list(
      {
        userId: user.user_id,
        status: query.status,
        lang: query.lang,
        createdFrom: query.start_time,
        createdTo: query.end_time,
      },
      { limit: query.limit, skip: query.skip },
    );
    return c.json({
      executions: page.items.map(toExecutionResult),
      total: page.total,
      limit: query.limit,
      skip: query.skip,
      has_more: query.skip + page.items.length < page.total,
    });
  });

  app.get('/api/v1/example-scripts', (c) => {
    const languages = new Set(platform.sandbox.runtimes().map((r) => r.language));
    const scripts = Object.fromEntries(
      Object.entries(EXAMPLE_SCRIPTS).filter(([lang]) => languages.has(lang)),
    );
    c.header('Cache-Control', 'public, max-age=600');
    return c.json({ scripts });
  });

  app.get('/api/v1/k8s-limits', async (c) => {
    const { config } = platform;
    const limits = await effectiveSettings(platform);
    const supported: Record<string, { versions: string[]; file_ext: string }> = {};
    for (const runtime of platform.sandbox.runtimes()) {
      const entry = supported[runtime.language] ?? { versions: [], file_ext: runtime.fileExt };
      entry.versions.push(runtime.version);
      supported[runtime.language] = entry;
    }
    // Short: an administrator may change the limits at any time.
    c.header('Cache-Control', 'public, max-age=30');
    return c.json({
      cpu_limit: limits.cpu_limit,
      memory_limit: limits.memory_limit,
      cpu_request: config.CPU_REQUEST,
      memory_request: formatBytes(config.MEMORY_REQUEST),
      execution_timeout: limits.max_timeout_seconds,
      supported_runtimes: supported,
      sandbox: platform.sandbox.backend,
      max_processes: config.MAX_PROCESSES,
      output_limit_bytes: config.OUTPUT_LIMIT,
    });
  });

  app.get('/api/v1/health/live', (c) =>
    c.json({
      status: 'ok',
      uptime_seconds: Math.floor((Date.now() - STARTED_AT) / 1000),
      timestamp: platform.now().toISOString(),
    }),
  );

  return app;
}
