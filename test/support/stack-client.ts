/** A signed-in user of a running stack, over its gateway: submit, follow and inspect executions. */
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import type { ExecutionResult } from '../../shared/domain/execution';
import type { DomainEvent, EventType } from '../../shared/events/schemas';
import { authHeaders, registerAndLogin, type TestSession } from './http';

export interface StackUser {
  session: TestSession;
  submit(script: string, lang?: string): Promise<string>;
  result(executionId: string): Promise<ExecutionResult>;
  events(executionId: string, types?: EventType[]): Promise<DomainEvent[]>;
  cancel(executionId: string): Promise<number>;
  notificationCount(): Promise<number>;
  /** Polls until the execution has a stored result (`result_stored`), or throws after `timeoutMs`. */
  waitStored(executionId: string, timeoutMs?: number): Promise<ExecutionResult>;
  /** Polls until the execution reaches `status`, or throws after `timeoutMs`. */
  waitStatus(executionId: string, status: string, timeoutMs?: number): Promise<void>;
}

/**
 * The environment of a stack under test on the services from `scripts/services/services.sh env`: a
 * database of its own (named `database` on the MongoDB-wire server), rate limits off, plain-HTTP cookies.
 */
export function stackTestEnv(
  dataDir: string,
  database: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const { INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL, INTEGR8S_KAFKA_BROKERS } = process.env;
  if (!INTEGR8S_MONGO_URL || !INTEGR8S_REDIS_URL || !INTEGR8S_KAFKA_BROKERS)
    throw new Error('INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL and INTEGR8S_KAFKA_BROKERS must be set');
  return {
    DATA_DIR: dataDir,
    MONGO_URL: INTEGR8S_MONGO_URL.replace(/\/[^/]*$/, `/${database}`),
    REDIS_URL: INTEGR8S_REDIS_URL,
    KAFKA_BROKERS: INTEGR8S_KAFKA_BROKERS,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_ENABLED: 'false',
    COOKIE_SECURE: 'false',
    DEMO_ACCOUNT: 'false',
    ...extra,
  };
}

/** Drops the database a stack under test used (its MONGO_URL), so runs leave nothing behind. */
export async function dropStackDatabase(env: Record<string, string>): Promise<void> {
  const client = new MongoClient(env.MONGO_URL!);
  try {
    await client.db().dropDatabase();
  } finally {
    await client.close();
  }
}

async function json<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Polls `probe` every `intervalMs` until it returns a value, or throws with `what` after `timeoutMs`. */
export async function pollFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error; // a server being restarted answers with errors for a while
    }
    await sleep(intervalMs);
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}

export async function stackUser(baseUrl: string): Promise<StackUser> {
  const session = await registerAndLogin({
    request: (p: string, init?: RequestInit) => fetch(baseUrl + p, init),
  });
  const get = (p: string) => fetch(baseUrl + p, { headers: authHeaders(session) });
  const user: StackUser = {
    session,
    async submit(script, lang = 'python') {
      const response = await fetch(`${baseUrl}/api/v1/execute`, {
        method: 'POST',
        headers: authHeaders(session, { 'Content-Type': 'application/json' }),
        body: JSON.stringify({ script, lang }),
      });
      return (await json<{ execution_id: string }>(response, 'submit')).execution_id;
    },
    async result(id) {
      return json<ExecutionResult>(await get(`/api/v1/executions/${id}/result`), 'result');
    },
    async events(id, types = []) {
      const query = new URLSearchParams({ limit: '1000' });
      for (const type of types) query.append('event_types', type);
      return json<DomainEvent[]>(await get(`/api/v1/executions/${id}/events?${query}`), 'events');
    },
    async cancel(id) {
      const response = await fetch(`${baseUrl}/api/v1/executions/${id}/cancel`, {
        method: 'POST',
        headers: authHeaders(session, { 'Content-Type': 'application/json' }),
        body: JSON.stringify({ reason: 'stopped by the fault suite' }),
      });
      await response.body?.cancel();
      return response.status;
    },
    async notificationCount() {
      return (await json<{ total: number }>(await get('/api/v1/notifications'), 'notifications')).total;
    },
    async waitStored(id, timeoutMs = 60_000) {
      await pollFor(
        `result_stored of ${id}`,
        async () => ((await user.events(id, ['result_stored'])).length > 0 ? true : undefined),
        timeoutMs,
      );
      return user.result(id);
    },
    async waitStatus(id, status, timeoutMs = 30_000) {
      await pollFor(
        `${id} to be ${status}`,
        async () => ((await user.result(id)).status === status ? true : undefined),
        timeoutMs,
        50,
      );
    },
  };
  return user;
}
