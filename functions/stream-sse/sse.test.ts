import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeComment, encodeFrame, OpenStreams } from './sse';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The part of a Node response a stream uses, recording what was written. */
class FakeResponse extends EventEmitter {
  written: string[] = [];
  ended = false;
  writableLength = 0;
  writableNeedDrain = false;
  write(bytes: Uint8Array): boolean {
    this.written.push(text(bytes));
    return true;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
}

const open = (streams: OpenStreams) => {
  const response = new FakeResponse();
  return { response, stream: streams.create(response as unknown as ServerResponse) };
};

describe('encodeFrame', () => {
  it('writes event, data and id lines and a blank line', () => {
    expect(text(encodeFrame({ id: '7', data: '{"a":1}' }))).toBe('data: {"a":1}\nid: 7\n\n');
    expect(text(encodeFrame({ event: 'notification', id: 'n1', data: '{}' }))).toBe(
      'event: notification\ndata: {}\nid: n1\n\n',
    );
    expect(text(encodeComment('ping'))).toBe(': ping\n\n');
  });

  it('refuses a line break, which would start another field', () => {
    expect(() => encodeFrame({ id: '1\ndata: forged', data: '{}' })).toThrow(/single lines/);
    expect(() => encodeFrame({ data: 'a\nb' })).toThrow(/single lines/);
  });
});

describe('OpenStreams', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends heartbeats to started streams only, from one timer', () => {
    const streams = new OpenStreams(1000, 60_000);
    const started = open(streams);
    const waiting = open(streams);
    started.stream.start(encodeComment('first'));
    vi.advanceTimersByTime(2500);
    expect(started.response.written).toEqual([': first\n\n', ': ping\n\n', ': ping\n\n']);
    expect(waiting.response.written).toEqual([]);
    expect(vi.getTimerCount()).toBe(2);
  });

  it('closes each stream when its time is up, oldest first, and stops its timers when none is left', () => {
    const streams = new OpenStreams(1000, 10_000);
    const first = open(streams);
    first.stream.start(encodeComment('a'));
    vi.advanceTimersByTime(4000);
    const second = open(streams);
    second.stream.start(encodeComment('b'));
    vi.advanceTimersByTime(5999);
    expect(first.response.ended).toBe(false);
    vi.advanceTimersByTime(1);
    expect(first.response.ended).toBe(true);
    expect(second.response.ended).toBe(false);
    vi.advanceTimersByTime(4000);
    expect(second.response.ended).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('forgets a stream its client closed', async () => {
    const streams = new OpenStreams(1000, 10_000);
    const { response, stream } = open(streams);
    stream.start(encodeComment('a'));
    response.emit('close');
    await stream.closed;
    stream.write(encodeComment('late'));
    expect(response.written).toEqual([': a\n\n']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closes a stream whose client leaves too much unread, so it resumes from its last id', () => {
    const streams = new OpenStreams(1000, 10_000);
    const { response, stream } = open(streams);
    stream.start(encodeComment('a'));
    response.writableLength = 9 * 1024 * 1024;
    stream.write(encodeComment('b'));
    expect(response.ended).toBe(true);
  });

  it('lets a replay wait until the client has read what was buffered', async () => {
    const streams = new OpenStreams(1000, 10_000);
    const { response, stream } = open(streams);
    response.writableNeedDrain = true;
    let drained = false;
    const waiting = stream.drained().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    response.emit('drain');
    await waiting;
    expect(drained).toBe(true);
  });
});
