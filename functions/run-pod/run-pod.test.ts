import { afterEach, describe, expect, it, vi } from 'vitest';
import { toBinaryRequest } from '../../shared/events/cloudevents';
import type { EventOf } from '../../shared/events/schemas';
import { submitExecution } from '../../shared/executions/submission';
import { aUser } from '../../shared/store/contracts/fixtures';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { createRunPodApp } from './app';

let platform: TestPlatform | undefined;
afterEach(async () => {
  await platform?.close();
});

const typesOf = async (p: TestPlatform, id: string) =>
  (await p.store.events.listByAggregate(id)).map((stored) => stored.event.event_type);

describe('run-pod', () => {
  it('runs a requested execution in the sandbox and reports its life in order', async () => {
    platform = await createTestPlatform();
    const user = aUser({ user_id: crypto.randomUUID(), username: 'runner', email: 'runner@example.com' });
    await platform.store.users.create(user);
    const { execution_id: id } = await submitExecution(platform, user, {
      script: 'print("ran")',
      lang: 'python',
      stdin: '',
    });
    const app = createRunPodApp(platform);
    const [requested] = await platform.store.events.listByAggregate(id);
    expect((await app.fetch(toBinaryRequest(requested!.event, 'http://run-pod.local/'))).status).toBe(200);
    await vi.waitFor(async () => expect(await typesOf(platform!, id)).toContain('pod_terminated'), {
      timeout: 10_000,
    });
    expect(await typesOf(platform, id)).toEqual([
      'execution_requested',
      'pod_created',
      'execution_started',
      'execution_output',
      'pod_terminated',
    ]);
    const [terminated] = await platform.store.events.listByAggregate(id, { eventTypes: ['pod_terminated'] });
    expect(terminated!.event).toMatchObject({ reason: 'exited', exit_code: 0, stdout: 'ran\n' });
  });

  it('after a restart, admits executions that were still queued', async () => {
    platform = await createTestPlatform();
    const user = aUser({ user_id: crypto.randomUUID(), username: 'later', email: 'later@example.com' });
    await platform.store.users.create(user);
    // Accepted while no run-pod was listening (the bus has no subscriber here).
    const { execution_id: id } = await submitExecution(platform, user, {
      script: 'print(2)',
      lang: 'python',
      stdin: '',
    });
    createRunPodApp(platform);
    await vi.waitFor(async () => expect(await typesOf(platform!, id)).toContain('pod_terminated'), {
      timeout: 10_000,
    });
  });

  it('after a restart, ends runs that were cut off and re-delivers endings that were stored', async () => {
    platform = await createTestPlatform();
    const p = platform;
    const user = aUser({ user_id: crypto.randomUUID(), username: 'cut', email: 'cut@example.com' });
    await p.store.users.create(user);
    const running = async () => {
      const { execution_id: id } = await submitExecution(p, user, {
        script: 'print(3)',
        lang: 'python',
        stdin: '',
      });
      await p.store.executions.transition(id, ['queued'], {
        status: 'running',
        updated_at: new Date().toISOString(),
      });
      return id;
    };
    const cutOff = await running();
    const finished = await running();
    const completed = p.events.create<EventOf<'execution_completed'>>({
      event_type: 'execution_completed',
      execution_id: finished,
      exit_code: 0,
      stdout: '3\n',
      stderr: '',
      stdout_truncated: false,
      stderr_truncated: false,
      stdout_bytes: 2,
      stderr_bytes: 0,
      resource_usage: null,
    });
    await p.store.events.append(completed);
    const delivered: string[] = [];
    p.bus.subscribe({
      name: 'observer',
      eventTypes: ['execution_completed'],
      deliver: async (request) => {
        delivered.push(request.headers.get('ce-id')!);
        return new Response(null, { status: 200 });
      },
    });

    createRunPodApp(p);
    await vi.waitFor(async () => expect(await typesOf(p, cutOff)).toContain('pod_terminated'), {
      timeout: 10_000,
    });
    const [terminated] = await p.store.events.listByAggregate(cutOff, { eventTypes: ['pod_terminated'] });
    expect(terminated!.event).toMatchObject({
      reason: 'sandbox_error',
      message: 'The server restarted while the script was running',
    });
    await vi.waitFor(() => expect(delivered).toEqual([completed.event_id]), { timeout: 5000 });
    expect(await typesOf(p, finished)).not.toContain('pod_terminated');
  });
});
