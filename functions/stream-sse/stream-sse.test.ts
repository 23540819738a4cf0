import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventOf } from '../../shared/events/schemas';
import type { InProcessFanout } from '../../shared/fanout/in-process';
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

/** Local fan-out channels in use: one per followed execution or user, however many streams follow it. */
const channelCount = () => (server.platform.fanout as InProcessFanout).channelCount;

describe('every stream', () => {
  it('is an event stream with the security headers of every response', async () => {
    const id = await execution();
    for (const path of [url(id), `${server.baseUrl}/api/v1/events/notifications/stream`]) {
      const controller = new AbortController();
      const response = await fetch(path, { headers: { Cookie: owner.cookie }, signal: controller.signal });
      controller.abort();
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
  });
});

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

  it('gives every stream of one execution the same frames, and drops the channel after the last', async () => {
    const id = await execution();
    const before = channelCount();
    let started = 0;
    const readers = Array.from({ length: 3 }, () =>
      readSse(url(id), {
        headers: { Cookie: owner.cookie },
        onFrame: (frame) => {
          if (frameData<ExecutionFrame>(frame).event_type !== 'status' || ++started < 3) return;
          expect(channelCount()).toBe(before + 1);
          void output(id, 'live').then(() => finish(id));
        },
      }),
    );
    const results = await Promise.all(readers);
    for (const { frames, closedByServer } of results) {
      expect(closedByServer).toBe(true);
      expect(frames.map((f) => frameData<ExecutionFrame>(f).data ?? frameData(f).event_type)).toEqual([
        'status',
        'live',
        'result_stored',
      ]);
    }
    expect(results[1]!.frames.map((f) => f.id)).toEqual(results[0]!.frames.map((f) => f.id));
    await vi.waitFor(() => expect(channelCount()).toBe(before));
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
