/**
 * stream-sse: long-lived Server-Sent Event streams.
 *
 * Execution streams are resumable. The fan-out subscription opens first, then the stored history
 * after the client's cursor is sent, then live messages; every frame carries the event's store
 * position as `id`, and anything at or below the last position sent is skipped, so a reconnect with
 * `Last-Event-ID` sees no gap and no duplicate.
 */
import type { Context } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import * as v from 'valibot';
import { toExecutionResult } from '../../shared/domain/execution';
import type { FanoutMessage } from '../../shared/events/publisher';
import { STREAM_END_EVENTS } from '../../shared/events/schemas';
import { executionChannel, userChannel } from '../../shared/fanout/port';
import { canAccess, currentUser } from '../../shared/http/auth';
import { forbidden, notFound, validate } from '../../shared/http/errors';
import { UuidSchema } from '../../shared/http/params';
import { type AppEnv, createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import type { StoredEvent } from '../../shared/store/ports';
import { frameFor, isVisible, statusFrame } from './frames';

const CursorSchema = v.object({
  'Last-Event-ID': v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,15}$/, 'must be the id of a frame from this stream'),
      v.transform(Number),
    ),
    '0',
  ),
});

const HISTORY_PAGE = 1000;
const STREAM_ENDS: ReadonlySet<string> = new Set(STREAM_END_EVENTS);

export function createStreamSseApp(platform: Platform) {
  const app = createFunctionApp(platform, 'stream-sse');
  const { config, store, fanout } = platform;

  /** Keeps a stream open with heartbeats until `done` resolves or the stream's time is up. */
  async function hold(stream: SSEStreamingApi, done: Promise<void>): Promise<void> {
    const heartbeat = setInterval(
      () => void stream.write(': ping\n\n').catch(() => {}),
      config.SSE_HEARTBEAT_SECONDS * 1000,
    );
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, config.SSE_MAX_STREAM_SECONDS * 1000);
    });
    const aborted = new Promise<void>((resolve) => stream.onAbort(resolve));
    try {
      await Promise.race([done, timeUp, aborted]);
    } finally {
      clearInterval(heartbeat);
      clearTimeout(timer);
    }
  }

  app.get('/api/v1/events/executions/:execution_id', async (c: Context<AppEnv>) => {
    const user = currentUser(c);
    const executionId = validate(UuidSchema, c.req.param('execution_id'), 'path');
    const { 'Last-Event-ID': cursor } = validate(
      CursorSchema,
      { 'Last-Event-ID': c.req.header('last-event-id') ?? c.req.query('last_event_id') },
      'header',
    );
    const execution = await store.executions.get(executionId);
    if (!execution) throw notFound('Execution not found');
    if (!canAccess(user, execution.user_id)) throw forbidden('Not the owner of this execution');

    return streamSSE(c, async (stream) => {
      let lastSeq = cursor;
      let pending: FanoutMessage[] | null = [];
      let finish!: () => void;
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      // Frames are written one at a time, in store order.
      let writing = Promise.resolve();
      const send = (stored: FanoutMessage) => {
        writing = writing.then(async () => {
          if (stored.seq <= lastSeq) return;
          lastSeq = stored.seq;
          const event = stored.event;
          if (!('execution_id' in event) || !isVisible(event)) return;
          const ends = STREAM_ENDS.has(event.event_type);
          const record = ends ? await store.executions.get(executionId) : null;
          const frame = frameFor(event, record ? toExecutionResult(record) : null);
          await stream.writeSSE({ id: String(stored.seq), data: JSON.stringify(frame) });
          if (ends) finish();
        });
        return writing;
      };

      const unsubscribe = await fanout.subscribe(executionChannel(executionId), (raw) => {
        const message = JSON.parse(raw) as FanoutMessage;
        if (pending) pending.push(message);
        else void send(message);
      });
      try {
        const current = (await store.executions.get(executionId)) ?? execution;
        await stream.writeSSE({
          id: String(cursor),
          data: JSON.stringify(statusFrame(executionId, current.status, platform.now().toISOString())),
        });
        for (let after = cursor; ; ) {
          const page: StoredEvent[] = await store.events.listByAggregate(executionId, {
            afterSeq: after,
            limit: HISTORY_PAGE,
          });
          for (const stored of page) await send(stored);
          if (page.length < HISTORY_PAGE) break;
          after = page[page.length - 1]!.seq;
        }
        const buffered = pending.sort((a, b) => a.seq - b.seq);
        pending = null;
        for (const message of buffered) await send(message);
        // An execution that failed before it was queued has no stored result to wait for.
        if (current.status === 'error') finish();
        await hold(stream, done);
        await writing;
      } finally {
        await unsubscribe();
      }
    });
  });

  app.get('/api/v1/events/notifications/stream', async (c: Context<AppEnv>) => {
    const user = currentUser(c);
    return streamSSE(c, async (stream) => {
      const unsubscribe = await fanout.subscribe(userChannel(user.user_id), (raw) => {
        const message = JSON.parse(raw) as { type: string; notification: { notification_id: string } };
        if (message.type !== 'notification') return;
        void stream.writeSSE({
          event: 'notification',
          id: message.notification.notification_id,
          data: JSON.stringify(message.notification),
        });
      });
      try {
        // A comment, not an event: tells the client the subscription is live.
        await stream.write(': connected\n\n');
        await hold(stream, new Promise(() => {}));
      } finally {
        await unsubscribe();
      }
    });
  });

  return app;
}
