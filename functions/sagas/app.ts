/**
 * sagas: the execution saga of each execution — its steps, compensations and state, read from the
 * execution's events (shared/domain/saga.ts) — and cancelling one, which stops its run. Users see the
 * sagas of their own executions, admins all; someone else's saga is 403 (as the reference).
 */
import type { Context } from 'hono';
import { type ExecutionRecord, isTerminal } from '../../shared/domain/execution';
import {
  EXECUTION_STATUSES_OF_SAGA_STATE,
  foldExecutionSaga,
  type SagaState,
  type SagaStatus,
} from '../../shared/domain/saga';
import type { Principal } from '../../shared/domain/user';
import { requestCancellation } from '../../shared/executions/cancellation';
import { canAccess, currentUser } from '../../shared/http/auth';
import { badRequest, forbidden, notFound, validate } from '../../shared/http/errors';
import { type AppEnv, createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { ExecutionSagaQuerySchema, SagaListQuerySchema } from './requests';

export const BASE = '/api/v1/sagas';

const MAX_ID_CHARS = 200;
const sagaNotFound = () => notFound('Saga not found');

export function createSagasApp(platform: Platform) {
  const app = createFunctionApp(platform, 'sagas');
  const { store } = platform;

  async function sagaOf(execution: ExecutionRecord): Promise<SagaStatus | null> {
    return foldExecutionSaga(
      execution.execution_id,
      (await store.events.listByAggregate(execution.execution_id)).map((s) => s.event),
    );
  }

  /** The execution behind a saga id (the two are one), checked for the caller: 404 unknown, 403 not theirs. */
  async function owned(
    c: Context<AppEnv>,
    id: string,
  ): Promise<{ user: Principal; execution: ExecutionRecord }> {
    const user = currentUser(c);
    const execution = id.length <= MAX_ID_CHARS ? await store.executions.get(id) : null;
    if (!execution) throw sagaNotFound();
    if (!canAccess(user, execution.user_id)) throw forbidden('Not your saga');
    return { user, execution };
  }

  async function page(
    user: Principal,
    filter: { executionId?: string; state?: SagaState },
    paging: { limit: number; skip: number },
  ) {
    if (filter.executionId !== undefined) {
      const execution =
        filter.executionId.length <= MAX_ID_CHARS ? await store.executions.get(filter.executionId) : null;
      const saga = execution && canAccess(user, execution.user_id) ? await sagaOf(execution) : null;
      const sagas = saga && (!filter.state || saga.state === filter.state) ? [saga] : [];
      return {
        sagas: sagas.slice(paging.skip, paging.skip + paging.limit),
        total: sagas.length,
        ...paging,
        has_more: false,
      };
    }
    const found = await store.executions.list(
      {
        userId: user.role === 'admin' ? undefined : user.user_id,
        statuses: filter.state ? EXECUTION_STATUSES_OF_SAGA_STATE[filter.state] : undefined,
      },
      paging,
    );
    const sagas = (await Promise.all(found.items.map(sagaOf))).filter(
      (saga): saga is SagaStatus => saga !== null && (!filter.state || saga.state === filter.state),
    );
    return { sagas, total: found.total, ...paging, has_more: paging.skip + found.items.length < found.total };
  }

  // The reference lists at `/sagas/`; `/sagas` answers too.
  for (const path of [BASE, `${BASE}/`]) {
    app.get(path, async (c) => {
      const user = currentUser(c);
      const query = validate(SagaListQuerySchema, c.req.query(), 'query');
      return c.json(await page(user, { executionId: query.execution_id, state: query.state }, query));
    });
  }

  app.get(`${BASE}/execution/:execution_id`, async (c) => {
    const { user, execution } = await owned(c, c.req.param('execution_id'));
    const query = validate(ExecutionSagaQuerySchema, c.req.query(), 'query');
    return c.json(await page(user, { executionId: execution.execution_id, state: query.state }, query));
  });

  app.get(`${BASE}/:saga_id`, async (c) => {
    const { execution } = await owned(c, c.req.param('saga_id'));
    const saga = await sagaOf(execution);
    if (!saga) throw sagaNotFound();
    return c.json(saga);
  });

  app.post(`${BASE}/:saga_id/cancel`, async (c) => {
    const { user, execution } = await owned(c, c.req.param('saga_id'));
    const saga = await sagaOf(execution);
    if (!saga) throw sagaNotFound();
    if (isTerminal(execution.status) || saga.state !== 'running')
      throw badRequest(`Cannot cancel a saga that is ${saga.state}`);
    await requestCancellation(platform, execution, user.user_id, 'Saga cancelled');
    return c.json({
      success: true,
      message: 'Saga cancellation requested; its run is being stopped',
      saga_id: saga.saga_id,
    });
  });

  return app;
}
