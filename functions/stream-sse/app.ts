/**
 * stream-sse: long-lived Server-Sent Event streams.
 *
 * Execution streams are resumable. The fan-out subscription opens first, then the stored history
 * after the client's cursor is sent, then live messages; every frame carries the event's store
 * position as `id`, and anything at or below the last position sent is skipped, so a reconnect with
 * `Last-Event-ID` sees no gap and no duplicate.
 *
 * Thousands of streams may follow one execution, so the work per live event is done once per process:
 * one fan-out subscription per channel, each message parsed and encoded once, the same bytes written to
 * every stream, and one timer for all heartbeats.
 */
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { type Context, Hono } from 'hono';
import { type ExecutionRecord, toExecutionResult } from '../../shared/domain/execution';
import type { FanoutMessage } from '../../shared/events/publisher';
import { STREAM_END_EVENTS } from '../../shared/events/schemas';
import { executionChannel, userChannel } from '../../shared/fanout/port';
import { canAccess, currentUser } from '../../shared/http/auth';
import { forbidden, notFound, validate } from '../../shared/http/errors';
import { UuidSchema } from '../../shared/http/params';
import { securityHeaders } from '../../shared/http/security';
import { type AppEnv, createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { frameFor, isVisible, statusFrame } from './frames';
import { LiveChannels } from './live';
import { CursorSchema } from './requests';
import { encodeComment, encodeFrame, OpenStreams, SSE_HEADERS, type SseStream } from './sse';

const HISTORY_PAGE = 1000;
const STREAM_ENDS: ReadonlySet<string> = new Set(STREAM_END_EVENTS);
const CONNECTED = encodeComment('connected');

/** An execution event as the stream sends it: its position, and its frame unless the stream skips it. */
interface PositionedFrame {
  seq: number;
  bytes: Uint8Array | null;
  /** The stream closes after this frame. */
  ends: boolean;
}

interface NotificationMessage {
  type: string;
  notification: { notification_id: string };
}

export function createStreamSseApp(platform: Platform) {
  const app = createFunctionApp(platform, 'stream-sse', { publishes: false });
  const { config, store, fanout } = platform;
  const log = platform.log.child({ function: 'stream-sse' });
  const streams = new OpenStreams(config.SSE_HEARTBEAT_SECONDS * 1000, config.SSE_MAX_STREAM_SECONDS * 1000);
  // The head of every stream: the security headers every response gets, and the SSE ones.
  const streamHead = new Hono().use(securityHeaders(config)).all('*', (c) => c.body(null, 200, SSE_HEADERS));

  /**
   * Takes over the Node response (functions run on @hono/node-server) and writes its head. The app's
   * middleware would add its headers to the returned response on the way out, too late for this head.
   * `c.res` must stay untouched until the handler returns, or Hono copies the returned response into one
   * that @hono/node-server writes out again.
   */
  async function openStream(c: Context<AppEnv>): Promise<SseStream> {
    const { headers } = await streamHead.fetch(c.req.raw);
    const response = (c.env as HttpBindings).outgoing;
    response.writeHead(200, Object.fromEntries(headers));
    response.flushHeaders();
    return streams.create(response);
  }

  /** The frame of a stored event; the end of the stream carries the stored result. */
  async function positioned({ seq, event }: FanoutMessage): Promise<PositionedFrame> {
    if (!('execution_id' in event) || !isVisible(event)) return { seq, bytes: null, ends: false };
    const ends = STREAM_ENDS.has(event.event_type);
    const record = ends ? await store.executions.get(event.execution_id) : null;
    const frame = frameFor(event, record ? toExecutionResult(record) : null);
    return { seq, bytes: encodeFrame({ id: String(seq), data: JSON.stringify(frame) }), ends };
  }

  const executionLive = new LiveChannels(
    fanout,
    (message) => positioned(JSON.parse(message) as FanoutMessage),
    log,
  );
  const notificationLive = new LiveChannels(
    fanout,
    (message) => {
      const { type, notification } = JSON.parse(message) as NotificationMessage;
      if (type !== 'notification') return null;
      return encodeFrame({
        event: 'notification',
        id: notification.notification_id,
        data: JSON.stringify(notification),
      });
    },
    log,
  );

  /** Runs a stream's setup after its response has started; a failure closes the stream, and the client resumes. */
  function run(stream: SseStream, setup: () => Promise<void>, fields: Record<string, unknown>): void {
    setup().catch((error: unknown) => {
      log.error('stream failed', { ...fields, error });
      stream.close();
    });
  }

  async function followExecution(
    stream: SseStream,
    execution: ExecutionRecord,
    cursor: number,
  ): Promise<void> {
    const executionId = execution.execution_id;
    let lastSeq = cursor;
    // Live frames wait here while stored events are being sent.
    let pending: PositionedFrame[] | null = [];
    const send = (frame: PositionedFrame) => {
      if (frame.seq <= lastSeq) return;
      lastSeq = frame.seq;
      if (frame.bytes) stream.write(frame.bytes);
      if (frame.ends) stream.close();
    };
    /** Sends what the store holds after the last frame sent, then the live frames that came meanwhile. */
    const catchUp = async () => {
      pending ??= [];
      for (;;) {
        const page = await store.events.listByAggregate(executionId, {
          afterSeq: lastSeq,
          limit: HISTORY_PAGE,
        });
        for (const stored of page) {
          send(await positioned(stored));
          await stream.drained();
        }
        if (page.length < HISTORY_PAGE) break;
      }
      const buffered = pending.sort((a, b) => a.seq - b.seq);
      pending = null;
      for (const frame of buffered) send(frame);
    };
    // Null until the first catch-up starts: a gap before then is covered by that first read.
    let catchingUp: Promise<void> | null = null;
    const leave = await executionLive.join(executionChannel(executionId), {
      onItem: (frame) => {
        if (pending) pending.push(frame);
        else send(frame);
      },
      // Live frames were lost to every stream of this channel: the store has them.
      onGap: () => {
        if (!catchingUp) return;
        // Frames from now on come after the gap: they wait until the store has filled it.
        pending ??= [];
        catchingUp = catchingUp.then(catchUp).catch((error: unknown) => {
          log.warn('stream could not catch up after a fan-out gap; closing it for the client to resume', {
            executionId,
            error,
          });
          stream.close();
        });
      },
    });
    void stream.closed.then(leave);

    const current = (await store.executions.get(executionId)) ?? execution;
    const status = statusFrame(executionId, current.status, platform.now().toISOString());
    stream.start(encodeFrame({ id: String(cursor), data: JSON.stringify(status) }));
    catchingUp = catchUp();
    await catchingUp;
    // An execution that failed before it was queued has no stored result to wait for.
    if (current.status === 'error') stream.close();
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

    const stream = await openStream(c);
    run(stream, () => followExecution(stream, execution, cursor), { executionId });
    return RESPONSE_ALREADY_SENT;
  });

  app.get('/api/v1/events/notifications/stream', async (c: Context<AppEnv>) => {
    const user = currentUser(c);
    const stream = await openStream(c);
    run(
      stream,
      async () => {
        // A gap needs no repair here: notifications stay listed (and counted unread) in the store.
        const leave = await notificationLive.join(userChannel(user.user_id), {
          onItem: (frame) => stream.write(frame),
        });
        void stream.closed.then(leave);
        // A comment, not an event: tells the client the subscription is live.
        stream.start(CONNECTED);
      },
      { userId: user.user_id },
    );
    return RESPONSE_ALREADY_SENT;
  });

  return app;
}
