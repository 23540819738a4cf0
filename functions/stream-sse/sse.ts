/**
 * Server-Sent Events on the wire. A frame is encoded once and the same bytes are written to every stream
 * that shows it, straight to the Node response: a web stream per response costs several promises per
 * write, which thousands of streams per event make the bulk of the work. The open streams of a process
 * share one heartbeat timer and one timer that closes each stream when its time is up.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

const encoder = new TextEncoder();

/** One frame; fields must be single lines, as JSON is. */
export function encodeFrame({ id, event, data }: { id?: string; event?: string; data: string }): Uint8Array {
  if (/[\r\n]/.test(`${id ?? ''}${event ?? ''}${data}`)) throw new Error('SSE fields must be single lines');
  const eventLine = event === undefined ? '' : `event: ${event}\n`;
  const idLine = id === undefined ? '' : `id: ${id}\n`;
  return encoder.encode(`${eventLine}data: ${data}\n${idLine}\n`);
}

/** A comment: clients ignore it; it keeps idle connections from being timed out. */
export const encodeComment = (text: string): Uint8Array => encoder.encode(`: ${text}\n\n`);

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  'Transfer-Encoding': 'chunked',
};

const HEARTBEAT = encodeComment('ping');

/** Bytes a client may leave unread before its stream is closed; it resumes from its last id. */
const MAX_BACKLOG = 8 * 1024 * 1024;

export class SseStream {
  /** Settles when the stream is closed, by the server or by the client. */
  readonly closed: Promise<void>;
  /** performance.now() at which the stream is closed; set by `start`. */
  deadline = Number.POSITIVE_INFINITY;
  private onClosed!: () => void;
  private ended = false;

  /** `response` has its head written. */
  constructor(
    private readonly streams: OpenStreams,
    private readonly response: ServerResponse,
  ) {
    this.closed = new Promise((resolve) => {
      this.onClosed = resolve;
    });
    response.once('close', () => this.finish());
  }

  /** Writes the first frame; from then on the stream gets heartbeats and closes when its time is up. */
  start(first: Uint8Array): void {
    this.write(first);
    this.streams.add(this);
  }

  /** Writes without waiting, since a live frame goes to every stream at once; Node buffers the rest. */
  write(bytes: Uint8Array): void {
    if (this.ended) return;
    this.response.write(bytes);
    if (this.response.writableLength > MAX_BACKLOG) this.close();
  }

  /** Resolves once the client has read what Node buffered (replaying history waits here), or on close. */
  async drained(): Promise<void> {
    if (this.ended || !this.response.writableNeedDrain) return;
    await Promise.race([once(this.response, 'drain'), this.closed]);
  }

  close(): void {
    if (this.ended) return;
    this.response.end();
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.streams.delete(this);
    this.onClosed();
  }
}

/** The started streams of a process, in the order they started, which is also the order they expire in. */
export class OpenStreams {
  private readonly streams = new Set<SseStream>();
  private heartbeat: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly heartbeatMs: number,
    private readonly maxMs: number,
  ) {}

  create(response: ServerResponse): SseStream {
    return new SseStream(this, response);
  }

  add(stream: SseStream): void {
    stream.deadline = performance.now() + this.maxMs;
    this.streams.add(stream);
    this.heartbeat ??= setInterval(() => {
      for (const open of this.streams) open.write(HEARTBEAT);
    }, this.heartbeatMs);
    this.expiry ??= setTimeout(() => this.expire(), this.maxMs);
  }

  delete(stream: SseStream): void {
    if (!this.streams.delete(stream) || this.streams.size > 0) return;
    clearInterval(this.heartbeat);
    clearTimeout(this.expiry);
    this.heartbeat = this.expiry = undefined;
  }

  /** Closes the streams whose time is up, then waits for the oldest one left. */
  private expire(): void {
    this.expiry = undefined;
    const now = performance.now();
    for (const stream of this.streams) {
      if (stream.deadline > now) {
        this.expiry = setTimeout(() => this.expire(), stream.deadline - now);
        return;
      }
      stream.close();
    }
  }
}
