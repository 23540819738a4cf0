/**
 * Stack mode: every function from its bundle as its own process on MongoDB (FerretDB), Redis and
 * Kafka, events delivered by the dispatcher from the KafkaSource manifests, requests through the
 * gateway. Needs the servers (scripts/services/services.sh start) and the bundles (npm run build).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionFrame } from '../functions/stream-sse/frames';
import type { ExecutionResult } from '../shared/domain/execution';
import { type RunningStack, startStack } from '../shared/platform/stack-runner';
import { authHeaders, registerAndLogin, type TestSession } from './support/http';
import { takeStackTurn } from './support/kafka-groups';
import { frameData, readSse } from './support/sse';
import { dropStackDatabase, stackTestEnv } from './support/stack-client';

const { INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL, INTEGR8S_KAFKA_BROKERS } = process.env;
const available = Boolean(INTEGR8S_MONGO_URL && INTEGR8S_REDIS_URL && INTEGR8S_KAFKA_BROKERS);
if (!available)
  console.warn(
    '[stack.test] INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL or INTEGR8S_KAFKA_BROKERS unset: skipped',
  );

describe.skipIf(!available)('stack mode (real Kafka, MongoDB wire, Redis)', () => {
  let stack: RunningStack;
  let env: Record<string, string> | undefined;
  let releaseTurn: (() => void) | undefined;
  let session: TestSession;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'integr8scode-stack-'));
  const logs: string[] = [];

  beforeAll(async () => {
    env = stackTestEnv(dataDir, `stack_${Date.now().toString(36)}`);
    releaseTurn = await takeStackTurn(INTEGR8S_KAFKA_BROKERS!);
    stack = await startStack({
      env,
      port: 0,
      onLog: (name, line) => logs.push(`${name}: ${line}`),
    });
    const client = { request: (p: string, init?: RequestInit) => fetch(stack.url + p, init) };
    session = await registerAndLogin(client);
  }, 720_000); // may wait its turn behind another stack (takeStackTurn)

  afterAll(async () => {
    await stack?.stop();
    releaseTurn?.();
    if (env) await dropStackDatabase(env);
    rmSync(dataDir, { recursive: true, force: true });
    if (logs.some((line) => line.includes('"level":"error"')))
      console.warn(logs.filter((l) => l.includes('error')).join('\n'));
  });

  async function runScript(script: string): Promise<ExecutionResult> {
    const response = await fetch(`${stack.url}/api/v1/execute`, {
      method: 'POST',
      headers: authHeaders(session, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ script, lang: 'python' }),
    });
    const { execution_id } = (await response.json()) as { execution_id: string };
    expect(response.status).toBe(200);
    const { frames } = await readSse(`${stack.url}/api/v1/events/executions/${execution_id}`, {
      headers: { Cookie: session.cookie },
      timeoutMs: 60_000,
      until: (frame) => frameData<ExecutionFrame>(frame).event_type === 'result_stored',
    });
    return frameData<ExecutionFrame>(frames.at(-1)!).result as ExecutionResult;
  }

  it('runs a script end to end: submit → Kafka → run-pod → monitor → store-result → SSE', async () => {
    const result = await runScript('print("hello from the stack")');
    expect(result).toMatchObject({ status: 'completed', exit_code: 0, stdout: 'hello from the stack\n' });
  });

  it('a non-zero exit ends failed, and the notification reaches the inbox', async () => {
    const result = await runScript('import sys\nsys.exit(4)');
    expect(result).toMatchObject({ status: 'failed', error_type: 'script_error', exit_code: 4 });
    await expect
      .poll(
        async () => {
          const response = await fetch(`${stack.url}/api/v1/notifications`, {
            headers: authHeaders(session),
          });
          return ((await response.json()) as { total: number }).total;
        },
        { timeout: 15_000 },
      )
      .toBeGreaterThanOrEqual(2);
  });

  it('keeps saved scripts and settings, with their history, through their own functions', async () => {
    const send = (method: string, p: string, body?: unknown) =>
      fetch(`${stack.url}/api/v1${p}`, {
        method,
        headers: authHeaders(session, { 'Content-Type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const created = await send('POST', '/scripts', { name: 'stack', script: 'print("\u0000")' });
    expect(created.status).toBe(200);
    const { script_id } = (await created.json()) as { script_id: string };
    expect(await (await send('PUT', `/scripts/${script_id}`, { name: 'renamed' })).json()).toMatchObject({
      name: 'renamed',
      script: 'print("\u0000")',
    });
    expect(((await (await send('GET', '/scripts')).json()) as { total: number }).total).toBe(1);
    expect((await send('DELETE', `/scripts/${script_id}`)).status).toBe(204);

    expect((await send('PUT', '/user/settings/editor', { font_size: 18 })).status).toBe(200);
    const updated = await send('PUT', '/user/settings/', {
      theme: 'dark',
      custom_settings: { 'a.b': { $c: 1 } },
    });
    expect(await updated.json()).toMatchObject({ theme: 'dark', version: 2, editor: { font_size: 18 } });
    const history = (await (await send('GET', '/user/settings/history')).json()) as { history: unknown[] };
    expect(history.history).toHaveLength(3);
    const restored = await send('POST', '/user/settings/restore', { timestamp: '2000-01-01T00:00:00Z' });
    expect(await restored.json()).toMatchObject({ theme: 'auto', version: 3, custom_settings: {} });
  });
});
