import { afterEach, describe, expect, it, vi } from 'vitest';
import { toBinaryRequest } from '../../shared/events/cloudevents';
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
});
