/** Reads a Server-Sent Events stream over fetch, frame by frame, for tests and benchmarks. */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseFrame {
  id: string | undefined;
  event: string | undefined;
  data: string;
  /** Milliseconds since the request started. */
  at: number;
}

export interface SseResult {
  status: number;
  frames: SseFrame[];
  /** True when the server ended the stream itself. */
  closedByServer: boolean;
  /** Comment lines (heartbeats) seen. */
  comments: string[];
}

export async function readSse(
  url: string,
  options: {
    headers?: Record<string, string>;
    /** Stop reading (and disconnect) once this returns true. */
    until?: (frame: SseFrame, frames: SseFrame[]) => boolean;
    timeoutMs?: number;
    onFrame?: (frame: SseFrame) => void;
    onComment?: (comment: string) => void;
  } = {},
): Promise<SseResult> {
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`SSE read timed out: ${url}`)),
    options.timeoutMs ?? 15_000,
  );
  const frames: SseFrame[] = [];
  const comments: string[] = [];
  let stop = false;
  try {
    const response = await fetch(url, {
      headers: { Accept: 'text/event-stream', ...options.headers },
      signal: controller.signal,
    });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return { status: response.status, frames, closedByServer: true, comments };
    }
    const parser = createParser({
      onEvent(message: EventSourceMessage) {
        const frame = {
          id: message.id,
          event: message.event,
          data: message.data,
          at: performance.now() - started,
        };
        frames.push(frame);
        options.onFrame?.(frame);
        if (options.until?.(frame, frames)) stop = true;
      },
      onComment(comment) {
        comments.push(comment);
        options.onComment?.(comment);
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { status: response.status, frames, closedByServer: true, comments };
      parser.feed(value);
      if (stop) {
        await reader.cancel();
        return { status: response.status, frames, closedByServer: false, comments };
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

export const frameData = <T = Record<string, unknown>>(frame: SseFrame): T => JSON.parse(frame.data) as T;
