import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../shared/domain/execution';
import { toBinaryRequest } from '../../shared/events/cloudevents';
import type { DomainEvent, EventOf } from '../../shared/events/schemas';
import { anExecution } from '../../shared/store/contracts/fixtures';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { createStoreResultApp } from './app';

let platform: TestPlatform;
let app: ReturnType<typeof createStoreResultApp>;

beforeAll(async () => {
  platform = await createTestPlatform();
  app = createStoreResultApp(platform);
});
afterAll(async () => {
  await platform?.close();
});

const deliver = (event: DomainEvent) => app.fetch(toBinaryRequest(event, 'http://store-result.local/'));

async function queuedExecution(): Promise<ExecutionRecord> {
  const record = anExecution({ execution_id: crypto.randomUUID(), status: 'queued' });
  await platform.store.executions.create(record);
  return record;
}

const completed = (executionId: string) =>
  platform.events.create<EventOf<'execution_completed'>>({
    event_type: 'execution_completed',
    execution_id: executionId,
    exit_code: 0,
    stdout: 'hi\n',
    stderr: '',
    stdout_truncated: false,
    stderr_truncated: false,
    stdout_bytes: 3,
    stderr_bytes: 0,
    resource_usage: null,
  });

const resultStoredEvents = async (executionId: string) =>
  platform.store.events.listByAggregate(executionId, { eventTypes: ['result_stored'] });

describe('store-result', () => {
  it('walks the lifecycle: scheduled, running, then the stored result and result_stored', async () => {
    const { execution_id: id } = await queuedExecution();
    const podCreated = platform.events.create<EventOf<'pod_created'>>({
      event_type: 'pod_created',
      execution_id: id,
      pod_name: 'p',
      namespace: 'local',
    });
    expect((await deliver(podCreated)).status).toBe(200);
    expect(await platform.store.executions.get(id)).toMatchObject({
      status: 'scheduled',
      scheduled_at: podCreated.timestamp,
    });
    const started = platform.events.create<EventOf<'execution_started'>>({
      event_type: 'execution_started',
      execution_id: id,
      pod_name: 'p',
    });
    await deliver(started);
    expect(await platform.store.executions.get(id)).toMatchObject({
      status: 'running',
      started_at: started.timestamp,
    });
    await deliver(completed(id));
    expect(await platform.store.executions.get(id)).toMatchObject({
      status: 'completed',
      exit_code: 0,
      stdout: 'hi\n',
      output: { stdout_bytes: 3, stdout_truncated: false },
    });
    const stored = await resultStoredEvents(id);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.event).toMatchObject({ storage_path: id, size_bytes: 3 });
  });

  it('keeps the first terminal outcome: a later one changes nothing and stores no second result', async () => {
    const { execution_id: id } = await queuedExecution();
    const cancelled = platform.events.create<EventOf<'execution_cancelled'>>({
      event_type: 'execution_cancelled',
      execution_id: id,
      cancelled_by: 'u',
      reason: 'stop',
      force_terminated: false,
    });
    await deliver(cancelled);
    await deliver(completed(id));
    expect(await platform.store.executions.get(id)).toMatchObject({
      status: 'cancelled',
      stdout: null,
      error_message: 'stop',
    });
    expect(await resultStoredEvents(id)).toHaveLength(1);
  });

  it('a redelivered event changes nothing, even after its processed marker is lost', async () => {
    const { execution_id: id } = await queuedExecution();
    const event = completed(id);
    await deliver(event);
    const duplicate = await deliver(event);
    expect(await duplicate.json()).toEqual({ status: 'duplicate' });
    await platform.kv.delete(`processed:store-result:${event.event_id}`);
    expect((await deliver(event)).status).toBe(200);
    expect(await resultStoredEvents(id)).toHaveLength(1);
  });

  it('answers a malformed CloudEvent and a type it does not take with 400, so they are dead-lettered', async () => {
    const malformed = await app.request('/', {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'x',
        'ce-type': 'pod_created',
        'content-type': 'application/json',
      },
      body: '{"not": "an event"',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { detail: string }).detail).toMatch(/ce-source|JSON/);
    const { execution_id: id } = await queuedExecution();
    const requested = platform.events.create<EventOf<'execution_output'>>({
      event_type: 'execution_output',
      execution_id: id,
      stream: 'stdout',
      data: 'x',
    });
    const unhandled = await deliver(requested);
    expect(unhandled.status).toBe(400);
    expect(await unhandled.json()).toMatchObject({ detail: 'store-result does not handle execution_output' });
  });
});
