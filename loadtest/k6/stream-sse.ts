/**
 * stream-sse: many concurrent streams on one execution, and submit → result over SSE.
 *
 * `fanout`: setup() submits a script that sleeps SLEEP_SECONDS, then STREAMS virtual users each open
 * /api/v1/events/executions/{id} and read it (k6's http module returns when the server closes the stream,
 * which it does after `result_stored`; `timeout` bounds the wait). `sse_delivery_ms` is the time from the
 * `result_stored` event's timestamp to the end of the stream, so the k6 host's clock must be in sync
 * with the deployment's (NTP). Streams opened after the execution ended replay history instead and are
 * counted in `sse_late_streams`, not measured.
 * `roundtrip` (after fanout): one user submits hello-world Python 50 times in a row and reads each
 * stream to `result_stored`: `sse_roundtrip_ms`.
 * Targets: delivery p99 ≤ 250 ms to every stream; round trip p50 ≤ 250 ms.
 *   k6 run -e API_URL=https://integr8scode.example.com -e STREAMS=5000 loadtest/k6/stream-sse.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { apiUrl, env, type Session, signIn, submit } from './lib.ts';

const SLEEP_SECONDS = Number(env('SLEEP_SECONDS', '20'));
const STREAMS = Number(env('STREAMS', '1000'));

const delivery = new Trend('sse_delivery_ms', true);
const roundtrip = new Trend('sse_roundtrip_ms', true);
const received = new Rate('sse_result_received');
const late = new Counter('sse_late_streams');

export const options: Options = {
  setupTimeout: '60s',
  scenarios: {
    fanout: {
      executor: 'per-vu-iterations',
      exec: 'watch',
      vus: STREAMS,
      iterations: 1,
      maxDuration: `${SLEEP_SECONDS + 60}s`,
    },
    roundtrip: {
      executor: 'shared-iterations',
      exec: 'roundTrip',
      vus: 1,
      iterations: Number(env('ROUNDTRIPS', '50')),
      startTime: `${SLEEP_SECONDS + 65}s`,
      maxDuration: '5m',
    },
  },
  thresholds: {
    sse_delivery_ms: ['p(99)<250'],
    sse_roundtrip_ms: ['p(50)<250'],
    sse_result_received: ['rate==1'],
    sse_late_streams: ['count==0'],
  },
};

interface Setup {
  session: Session;
  executionId: string;
}

interface Frame {
  event_type: string;
  status: string | null;
  timestamp: string | null;
}

const TERMINAL = ['completed', 'failed', 'timeout', 'cancelled', 'error'];

/** The `data:` of every frame in an SSE body (each of our frames is one data line). */
function framesOf(body: string): Frame[] {
  const frames: Frame[] = [];
  for (const block of body.split('\n\n')) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data) frames.push(JSON.parse(data) as Frame);
  }
  return frames;
}

/** Reads an execution's stream until the server closes it (or `timeout`); the frames and when it ended. */
function readStream(
  session: Session,
  executionId: string,
  timeout: string,
): { frames: Frame[]; endedAt: number } {
  const response = http.get(`${apiUrl()}/api/v1/events/executions/${executionId}`, {
    headers: { Accept: 'text/event-stream', Cookie: session.cookie },
    timeout,
    tags: { name: 'execution stream' },
  });
  const endedAt = Date.now();
  check(response, { 'stream opened (200)': (r) => r.status === 200 });
  return { frames: typeof response.body === 'string' ? framesOf(response.body) : [], endedAt };
}

export function setup(): Setup {
  const session = signIn();
  const executionId = submit(session, `import time\ntime.sleep(${SLEEP_SECONDS})\nprint("done")`);
  return { session, executionId };
}

export function watch({ session, executionId }: Setup): void {
  const { frames, endedAt } = readStream(session, executionId, `${SLEEP_SECONDS + 45}s`);
  const first = frames[0];
  if (first?.status && TERMINAL.includes(first.status)) {
    late.add(1);
    return;
  }
  const result = frames.find((frame) => frame.event_type === 'result_stored');
  received.add(result !== undefined);
  if (result?.timestamp) delivery.add(endedAt - Date.parse(result.timestamp));
}

export function roundTrip({ session }: Setup): void {
  const started = Date.now();
  const executionId = submit(session, 'print("hello")');
  const { frames, endedAt } = readStream(session, executionId, '60s');
  const result = frames.find((frame) => frame.event_type === 'result_stored');
  received.add(result !== undefined);
  if (result) roundtrip.add(endedAt - started);
}

export default watch;
