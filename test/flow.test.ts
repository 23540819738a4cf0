/**
 * The whole execution flow through the embedded server over real HTTP and SSE: submit, the
 * sandbox, the lifecycle events and the stored result, for each kind of ending.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionFrame } from '../functions/stream-sse/frames';
import type { ExecutionResult } from '../shared/domain/execution';
import { authHeaders, type RequestableApp, registerAndLogin, type TestSession } from './support/http';
import { type RunningServer, startTestServer } from './support/server';
import { frameData, readSse, type SseFrame } from './support/sse';

let server: RunningServer;
let client: RequestableApp;
let session: TestSession;

beforeAll(async () => {
  server = await startTestServer({
    EXECUTION_TIMEOUT_SECONDS: '3',
    MEMORY_LIMIT: '64Mi',
    OUTPUT_LIMIT: '64Ki',
    MAX_PROCESSES: '32',
  });
  client = { request: (path, init) => fetch(server.baseUrl + path, init) };
  session = await registerAndLogin(client);
});
afterAll(async () => {
  await server?.close();
});

async function submit(script: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await client.request('/api/v1/execute', {
    method: 'POST',
    headers: authHeaders(session, { 'Content-Type': 'application/json' }),
    body: JSON.stringify({ script, lang: 'python', ...extra }),
  });
  const body = (await response.json()) as { execution_id: string; status: string };
  expect(response.status, JSON.stringify(body)).toBe(200);
  expect(body.status).toBe('queued');
  return body.execution_id;
}

const isEnd = (frame: SseFrame) =>
  ['result_stored', 'result_failed'].includes(frameData<ExecutionFrame>(frame).event_type);

async function stream(executionId: string, options: Parameters<typeof readSse>[1] = {}) {
  return readSse(`${server.baseUrl}/api/v1/events/executions/${executionId}`, {
    headers: { Cookie: session.cookie },
    until: isEnd,
    timeoutMs: 20_000,
    ...options,
  });
}

/** Submits, follows the stream to the end and returns the frames and the final result. */
async function run(script: string, extra: Record<string, unknown> = {}) {
  const executionId = await submit(script, extra);
  const { frames, status } = await stream(executionId);
  expect(status).toBe(200);
  const last = frameData<ExecutionFrame>(frames.at(-1)!);
  expect(last.event_type).toBe('result_stored');
  const result = last.result as ExecutionResult;
  return { executionId, frames: frames.map((f) => ({ ...frameData<ExecutionFrame>(f), id: f.id })), result };
}

const output = (frames: (ExecutionFrame & { id?: string })[], stream: 'stdout' | 'stderr') =>
  frames
    .filter((f) => f.event_type === 'execution_output' && f.stream === stream)
    .map((f) => f.data)
    .join('');

describe('execution flow (embedded, real sandbox)', () => {
  it('runs a script and streams every phase, live output and the stored result', async () => {
    const { frames, result } = await run(
      'import sys\nprint("hello from the sandbox")\nprint("oops", file=sys.stderr)',
    );
    expect(frames[0]).toMatchObject({ event_type: 'status', id: '0' });
    expect(['queued', 'scheduled', 'running', 'completed']).toContain(frames[0]!.status);
    const types = frames.map((f) => f.event_type);
    for (const type of [
      'execution_requested',
      'pod_created',
      'execution_started',
      'execution_completed',
      'result_stored',
    ]) {
      expect(types).toContain(type);
    }
    expect(types.indexOf('pod_created')).toBeLessThan(types.indexOf('execution_started'));
    expect(types.indexOf('execution_started')).toBeLessThan(types.indexOf('execution_completed'));
    const ids = frames.slice(1).map((f) => Number(f.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(output(frames, 'stdout')).toBe('hello from the sandbox\n');
    expect(output(frames, 'stderr')).toBe('oops\n');
    expect(result).toMatchObject({
      status: 'completed',
      exit_code: 0,
      stdout: 'hello from the sandbox\n',
      stderr: 'oops\n',
    });
    expect(result.resource_usage!.peak_memory_kb).toBeGreaterThan(1000);
    expect(result.resource_usage!.execution_time_wall_seconds).toBeGreaterThan(0);
    expect(result.queued_ms).not.toBeNull();
    expect(result.run_ms).not.toBeNull();
  });

  it('a non-zero exit fails as a script error with its exit code', async () => {
    const { result } = await run('import sys\nprint("bye")\nsys.exit(3)');
    expect(result).toMatchObject({
      status: 'failed',
      error_type: 'script_error',
      exit_code: 3,
      stdout: 'bye\n',
    });
  });

  it('the wall-clock deadline ends the run as timeout', async () => {
    const started = Date.now();
    const { result } = await run('import time\nprint("waiting", flush=True)\ntime.sleep(60)');
    expect(result).toMatchObject({ status: 'timeout', error_type: 'timeout', stdout: 'waiting\n' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('going over the memory limit fails as a resource limit', async () => {
    const { result } = await run('data = bytearray(512 * 1024 * 1024)\nprint(len(data))');
    expect(result).toMatchObject({ status: 'failed', error_type: 'resource_limit' });
    expect(result.stdout).toBe('');
  });

  it('an output flood is capped with head and tail kept and the total counted', async () => {
    const script =
      'import sys\nsys.stdout.write("HEAD" + "x" * 2_000_000 + "TAIL")\nprint("done", file=sys.stderr)';
    const { result } = await run(script);
    expect(result.status).toBe('completed');
    expect(result.output).toMatchObject({
      stdout_truncated: true,
      stdout_bytes: 2_000_008,
      stderr_truncated: false,
    });
    expect(result.stdout!.startsWith('HEAD')).toBe(true);
    expect(result.stdout!.endsWith('TAIL')).toBe(true);
    expect(Buffer.byteLength(result.stdout!)).toBeLessThan(64 * 1024 + 200);
    expect(result.stderr).toBe('done\n');
  });

  it('a fork bomb is contained and the platform keeps serving', async () => {
    const bomb = 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass';
    const { result } = await run(bomb);
    expect(['failed', 'timeout']).toContain(result.status);
    const after = await run('print("still here")');
    expect(after.result).toMatchObject({ status: 'completed', stdout: 'still here\n' });
  });

  it('the network is unreachable from a script', async () => {
    const port = new URL(server.baseUrl).port;
    const script = [
      'import socket',
      `for target in [("127.0.0.1", ${port}), ("1.1.1.1", 53)]:`,
      '    try:',
      '        socket.create_connection(target, timeout=2)',
      '        print("connected", target)',
      '    except OSError as error:',
      '        print("blocked", target[0])',
      'try:',
      '    socket.getaddrinfo("example.com", 80)',
      '    print("resolved")',
      'except OSError:',
      '    print("no dns")',
    ].join('\n');
    const { result } = await run(script);
    expect(result.stdout).toBe('blocked 127.0.0.1\nblocked 1.1.1.1\nno dns\n');
  });

  it('cancel stops a running script and the execution ends cancelled', async () => {
    const executionId = await submit('import time\nprint("started", flush=True)\ntime.sleep(60)');
    let cancelled: Response | Promise<Response> | undefined;
    const { frames } = await stream(executionId, {
      onFrame: (frame) => {
        const data = frameData<ExecutionFrame>(frame);
        if (data.event_type === 'execution_output' && !cancelled) {
          cancelled = client.request(`/api/v1/executions/${executionId}/cancel`, {
            method: 'POST',
            headers: authHeaders(session, { 'Content-Type': 'application/json' }),
            body: JSON.stringify({ reason: 'test' }),
          });
        }
      },
    });
    const response = await cancelled!;
    expect(await response.json()).toMatchObject({
      status: 'cancellation_requested',
      execution_id: executionId,
    });
    const last = frameData<ExecutionFrame>(frames.at(-1)!);
    expect(last.event_type).toBe('result_stored');
    expect(last.result).toMatchObject({ status: 'cancelled' });
    const again = await client.request(`/api/v1/executions/${executionId}/cancel`, {
      method: 'POST',
      headers: authHeaders(session),
    });
    expect(await again.json()).toMatchObject({ status: 'already_cancelled' });
  });

  it('a reconnect with Last-Event-ID resumes with no gap and no duplicate', async () => {
    const executionId = await submit(
      'import time\nfor i in range(6):\n    print(i, flush=True)\n    time.sleep(0.15)',
    );
    const first = await stream(executionId, {
      until: (frame) => frameData<ExecutionFrame>(frame).event_type === 'execution_output',
    });
    expect(first.closedByServer).toBe(false);
    const lastId = first.frames.at(-1)!.id!;
    const second = await stream(executionId, {
      headers: { Cookie: session.cookie, 'Last-Event-ID': lastId },
    });
    expect(frameData<ExecutionFrame>(second.frames[0]!)).toMatchObject({ event_type: 'status' });
    expect(second.frames[0]!.id).toBe(lastId);

    const seen = [...first.frames.slice(1), ...second.frames.slice(1)];
    const ids = seen.map((f) => Number(f.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const text = seen
      .map((f) => frameData<ExecutionFrame>(f))
      .filter((f) => f.event_type === 'execution_output')
      .map((f) => f.data)
      .join('');
    expect(text).toBe('0\n1\n2\n3\n4\n5\n');
    // Nothing the store holds for this execution was skipped.
    const stored = await client.request(`/api/v1/executions/${executionId}/events?limit=1000`, {
      headers: authHeaders(session),
    });
    const events = (await stored.json()) as { event_type: string }[];
    const visible = events.filter((e) => e.event_type !== 'pod_terminated');
    expect(seen.length).toBe(visible.length);
  });

  it('a client that connects after the end gets the whole history and the stream closes', async () => {
    const { executionId } = await run('print("early")');
    const late = await stream(executionId, { until: undefined });
    expect(late.closedByServer).toBe(true);
    const frames = late.frames.map((f) => frameData<ExecutionFrame>(f));
    expect(frames[0]).toMatchObject({ event_type: 'status', status: 'completed' });
    expect(output(frames, 'stdout')).toBe('early\n');
    expect(frames.at(-1)).toMatchObject({ event_type: 'result_stored' });
  });
});
