import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf } from '../../shared/events/schemas';
import { userChannel } from '../../shared/fanout/port';
import { anExecution } from '../../shared/store/contracts/fixtures';
import { registerAndLogin, type TestSession } from '../../test/support/http';
import { type RunningServer, startTestServer } from '../../test/support/server';
import { frameData, readSse } from '../../test/support/sse';
import type { ExecutionFrame } from './frames';

let server: RunningServer;
let owner: TestSession;
let stranger: TestSession;

beforeAll(async () => {
  server = await startTestServer({ SSE_HEARTBEAT_SECONDS: '1' });
  const client = { request: (path: string, init?: RequestInit) => fetch(server.baseUrl + path, init) };
  owner = await registerAndLogin(client);
  stranger = await registerAndLogin(client);
});
afterAll(async () => {
  await server?.close();
});

/** An execution record no sandbox will pick up: only stream-only events and the final one are published. */
async function execution(): Promise<string> {
  const now = new Date().toISOString();
  const record = anExecution({
    execution_id: crypto.randomUUID(),
    user_id: owner.userId,
    created_at: now,
    status: 'running',
    scheduled_at: now,
    started_at: now,
  });
  await server.platform.store.executions.create(record);
  return record.execution_id;
}

async function output(executionId: string, data: string) {
  const { events } = server.platform;
  return events.publish(
    events.create<EventOf<'execution_output'>>({
      event_type: 'execution_output',
      execution_id: executionId,
      stream: 'stdout',
      data,
    }),
  );
}

async function finish(executionId: string) {
  await server.platform.store.executions.transition(executionId, ['running'], {
    status: 'completed',
    stdout: 'final',
    exit_code: 0,
    updated_at: new Date().toISOString(),
  });
  const { events } = server.platform;
  return events.publish(
    events.create<EventOf<'result_stored'>>({
      event_type: 'result_stored',
      execution_id: executionId,
      storage_type: 'database',
      storage_path: executionId,
      size_bytes: 5,
    }),
  );
}

const url = (id: string) => `${server.baseUrl}/api/v1/events/executions/${id}`;

describe('GET /events/executions/{id}', () => {
  it('answers 401, 422, 404 and 403 before streaming', async () => {
    const id = await execution();
    expect((await readSse(url(id))).status).toBe(401);
    expect((await readSse(url('not-a-uuid'), { headers: { Cookie: owner.cookie } })).status).toBe(422);
    expect((await readSse(url(crypto.randomUUID()), { headers: { Cookie: owner.cookie } })).status).toBe(404);
    expect((await readSse(url(id), { headers: { Cookie: stranger.cookie } })).status).toBe(403);
    const badCursor = await readSse(url(id), { headers: { Cookie: owner.cookie, 'Last-Event-ID': 'abc' } });
    expect(badCursor.status).toBe(422);
  });

  it('resumes after Last-Event-ID, then streams live frames and closes after result_stored', async () => {
    const id = await execution();
    const first = await output(id, 'one');
    const second = await output(id, 'two');
    const reading = readSse(url(id), {
      headers: { Cookie: owner.cookie, 'Last-Event-ID': String(first.seq) },
      onFrame: (frame) => {
        if (frameData<ExecutionFrame>(frame).data === 'two') void output(id, 'three').then(() => finish(id));
      },
    });
    const { frames, closedByServer } = await reading;
    expect(closedByServer).toBe(true);
    const data = frames.map((f) => ({ id: f.id, ...frameData<ExecutionFrame>(f) }));
    expect(data[0]).toMatchObject({ event_type: 'status', status: 'running', id: String(first.seq) });
    expect(data.slice(1).map((f) => f.data ?? f.event_type)).toEqual(['two', 'three', 'result_stored']);
    expect(data[1]!.id).toBe(String(second.seq));
    expect(data.at(-1)!.result).toMatchObject({ execution_id: id, status: 'completed', stdout: 'final' });
  });

  it('sends heartbeats while nothing happens', async () => {
    const id = await execution();
    setTimeout(() => void finish(id), 2500);
    const { comments } = await readSse(url(id), { headers: { Cookie: owner.cookie } });
    expect(comments.filter((c) => c.trim() === 'ping').length).toBeGreaterThanOrEqual(2);
  });
});

describe('GET /events/notifications/stream', () => {
  it('needs a session', async () => {
    expect((await readSse(`${server.baseUrl}/api/v1/events/notifications/stream`)).status).toBe(401);
  });

  it('delivers the signed-in user’s notifications only, each with an id', async () => {
    const notification = { notification_id: crypto.randomUUID(), subject: 'Done', body: 'ok' };
    const publish = (userId: string, n: typeof notification) =>
      server.platform.fanout.publish(
        userChannel(userId),
        JSON.stringify({ type: 'notification', notification: n }),
      );
    // The stream announces its subscription with a comment; publish then.
    const { frames } = await readSse(`${server.baseUrl}/api/v1/events/notifications/stream`, {
      headers: { Cookie: owner.cookie },
      until: () => true,
      onComment: (comment) => {
        if (comment.trim() !== 'connected') return;
        void publish(stranger.userId, {
          ...notification,
          notification_id: crypto.randomUUID(),
          subject: 'not yours',
        }).then(() => publish(owner.userId, notification));
      },
    });
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ event: 'notification', id: notification.notification_id });
    expect(frameData(frames[0]!)).toMatchObject({ subject: 'Done' });
  });
});
