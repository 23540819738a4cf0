import { describe, expect, it } from 'vitest';
import { CappedStream, cutIncompleteEnd, skipIncompleteStart } from './output';

function feed(stream: CappedStream, data: Buffer, chunkSize: number): string {
  let live = '';
  for (let i = 0; i < data.length; i += chunkSize) live += stream.push(data.subarray(i, i + chunkSize));
  return live;
}

describe('CappedStream', () => {
  it('keeps everything under the cap, in order, across chunks', () => {
    const stream = new CappedStream(100);
    const live = feed(stream, Buffer.from('hello\nworld\n'), 3);
    expect(stream.result()).toEqual({ text: 'hello\nworld\n', truncated: false, totalBytes: 12 });
    expect(live).toBe('hello\nworld\n');
  });

  it('keeps exactly the cap without marking it truncated', () => {
    const stream = new CappedStream(10);
    feed(stream, Buffer.from('0123456789'), 4);
    expect(stream.result()).toEqual({ text: '0123456789', truncated: false, totalBytes: 10 });
  });

  it('keeps head and tail with a marker and counts every byte', () => {
    const stream = new CappedStream(10);
    const data = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    const live = feed(stream, data, 7);
    const out = stream.result();
    expect(out.truncated).toBe(true);
    expect(out.totalBytes).toBe(26);
    expect(out.text.startsWith('abcde\n')).toBe(true);
    expect(out.text.endsWith('\nvwxyz')).toBe(true);
    expect(out.text).toContain('16 bytes omitted, 26 bytes in total');
    // Live output stops at the cap.
    expect(live).toBe('abcdefghij');
  });

  it('handles a large flood in small and large chunks with the same result', () => {
    const data = Buffer.alloc(3_000_000);
    for (let i = 0; i < data.length; i++) data[i] = 97 + (i % 26);
    const small = new CappedStream(1000);
    const large = new CappedStream(1000);
    feed(small, data, 4096);
    feed(large, data, 65536);
    expect(small.result()).toEqual(large.result());
    const text = small.result().text;
    expect(text.startsWith(data.subarray(0, 500).toString())).toBe(true);
    expect(text.endsWith(data.subarray(data.length - 500).toString())).toBe(true);
    expect(small.totalBytes).toBe(3_000_000);
  });

  it('never splits a UTF-8 sequence at the head, the tail or the live cap', () => {
    const data = Buffer.from('€'.repeat(20)); // 3 bytes each, 60 bytes
    for (const cap of [7, 8, 9, 10, 11, 16, 31]) {
      for (const chunkSize of [1, 2, 5, 64]) {
        const stream = new CappedStream(cap);
        const live = feed(stream, data, chunkSize);
        const text = stream.result().text;
        expect(text).not.toContain('\uFFFD');
        expect(live).not.toContain('\uFFFD');
        expect(Buffer.byteLength(live)).toBeLessThanOrEqual(cap);
        const [head, tail] = text.split(/\n… \[.*\] …\n/);
        expect(head).toMatch(/^€*$/);
        expect(tail).toMatch(/^€*$/);
      }
    }
  });

  it('does not keep a reference to a reused input buffer', () => {
    const stream = new CappedStream(4);
    const buf = Buffer.from('abcdefgh');
    stream.push(buf);
    buf.fill(0x7a);
    expect(stream.result().text).toContain('gh');
  });
});

describe('UTF-8 boundary helpers', () => {
  it('cuts an incomplete sequence at the end only', () => {
    const euro = Buffer.from('a€'); // 61 e2 82 ac
    expect(cutIncompleteEnd(euro.subarray(0, 3)).toString()).toBe('a');
    expect(cutIncompleteEnd(euro.subarray(0, 2)).toString()).toBe('a');
    expect(cutIncompleteEnd(euro).toString()).toBe('a€');
    const emoji = Buffer.from('😀'); // 4 bytes
    expect(cutIncompleteEnd(emoji.subarray(0, 3)).length).toBe(0);
    expect(cutIncompleteEnd(emoji).toString()).toBe('😀');
  });

  it('skips orphan continuation bytes at the start', () => {
    const euro = Buffer.from('€b');
    expect(skipIncompleteStart(euro.subarray(1)).toString()).toBe('b');
    expect(skipIncompleteStart(euro.subarray(2)).toString()).toBe('b');
    expect(skipIncompleteStart(euro).toString()).toBe('€b');
  });
});
