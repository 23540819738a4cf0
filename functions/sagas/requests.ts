/** What the saga endpoints accept. */
import * as v from 'valibot';
import { SAGA_STATES } from '../../shared/domain/saga';
import { queryInt } from '../../shared/http/params';

const State = v.picklist(SAGA_STATES, `must be one of ${SAGA_STATES.join(', ')}`);

export const SagaListQuerySchema = v.object({
  state: v.optional(State),
  execution_id: v.optional(v.pipe(v.string(), v.maxLength(200, 'must be at most 200 characters'))),
  limit: queryInt(1, 1000, 100),
  skip: queryInt(0, 1_000_000, 0),
});

export const ExecutionSagaQuerySchema = v.object({
  state: v.optional(State),
  limit: queryInt(1, 1000, 100),
  skip: queryInt(0, 1_000_000, 0),
});
