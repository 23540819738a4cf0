import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBinaryRequest } from '../../shared/events/cloudevents';
import type { EventOf } from '../../shared/events/schemas';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { createMonitorApp } from './app';

let platform: TestPlatform;
let app: ReturnType<typeof createMonitorApp>;

beforeAll(async () => {
  platform = await createTestPlatform();
  app = createMonitorApp(platform);
});
afterAll(async () => {
  await platform?.close();
});

const terminated = (executionId: string, overrides: Partial<EventOf<'pod_terminated'>> = {}) =>
  platform.events.create<EventOf<'pod_terminated'>>({
    event_type: 'pod_terminated',
    execution_id: executionId,
    pod_name: `local-${executionId}`,
    exit_code: 2,
    signal: null,
    reason: 'exited',
    message: null,
    timeout_seconds: 5,
    started_at: new Date().toISOString(),
    finished_at: new Date().toISOString(),
    stdout: '',
    stderr: 'Traceback',
    stdout_truncated: false,
    stderr_truncated: false,
    stdout_bytes: 0,
    stderr_bytes: 9,
    resource_usage: null,
    ...overrides,
  });

const deliver = (event: EventOf<'pod_terminated'>) =>
  app.fetch(toBinaryRequest(event, 'http://monitor.local/'));

describe('monitor', () => {
  it('publishes exactly one terminal event per ended sandbox, even when the event is processed twice', async () => {
    const id = crypto.randomUUID();
    const pod = terminated(id);
    expect((await deliver(pod)).status).toBe(200);
    await platform.kv.delete(`processed:monitor:${pod.event_id}`);
    expect((await deliver(pod)).status).toBe(200);
    const events = await platform.store.events.listByAggregate(id, { eventTypes: ['execution_failed'] });
    expect(events).toHaveLength(1);
    expect(events[0]!.event).toMatchObject({ error_type: 'script_error', exit_code: 2, stderr: 'Traceback' });
  });

  it('publishes nothing for a cancelled run', async () => {
    const id = crypto.randomUUID();
    await deliver(terminated(id, { reason: 'cancelled', exit_code: 137 }));
    expect(await platform.store.events.listByAggregate(id)).toHaveLength(0);
  });
});
