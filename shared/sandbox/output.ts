/**
 * Output capping for one stream of a run: keeps a head and a tail of at most `capBytes` bytes in all,
 * counts every byte, and never splits a UTF-8 sequence. Pure: the caller feeds chunks as they arrive.
 */
import { StringDecoder } from 'node:string_decoder';
import type { CappedOutput } from './port';

export class CappedStream {
  private readonly headCap: number;
  private readonly tailCap: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  /** Everything after the head, trimmed from the front while it still holds at least `tailCap` bytes. */
  private readonly tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;
  /** Bytes up to the cap are streamed live; the decoder holds back a sequence cut in the middle. */
  private readonly liveDecoder = new StringDecoder('utf8');

  constructor(private readonly capBytes: number) {
    if (!Number.isInteger(capBytes) || capBytes < 0) throw new RangeError(`bad output cap: ${capBytes}`);
    this.headCap = Math.floor(capBytes / 2);
    this.tailCap = capBytes - this.headCap;
  }

  get totalBytes(): number {
    return this.total;
  }

  get truncated(): boolean {
    return this.total > this.capBytes;
  }

  /** Takes the next chunk; returns the text to stream live now (empty once the stream passed its cap). */
  push(chunk: Buffer): string {
    const before = this.total;
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headCap) {
      const take = Math.min(this.headCap - this.headBytes, rest.length);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length > 0) {
      // Copy: a pipe may reuse its buffer, and the tail outlives this call.
      this.tail.push(Buffer.from(rest));
      this.tailBytes += rest.length;
      while (this.tail.length > 1 && this.tailBytes - this.tail[0]!.length >= this.tailCap) {
        this.tailBytes -= this.tail.shift()!.length;
      }
    }
    if (before >= this.capBytes) return '';
    const live = chunk.subarray(0, Math.min(chunk.length, this.capBytes - before));
    return this.liveDecoder.write(live);
  }

  /** The kept text: everything when under the cap, else head, a marker line, and tail. */
  result(): CappedOutput {
    const headBuf = Buffer.concat(this.head, this.headBytes);
    const tailAll = Buffer.concat(this.tail, this.tailBytes);
    if (!this.truncated) {
      return {
        text: Buffer.concat([headBuf, tailAll]).toString('utf8'),
        truncated: false,
        totalBytes: this.total,
      };
    }
    const headText = cutIncompleteEnd(headBuf);
    const tailText = skipIncompleteStart(tailAll.subarray(tailAll.length - this.tailCap));
    const omitted = this.total - headText.length - tailText.length;
    const marker = `\n… [${omitted} bytes omitted, ${this.total} bytes in total] …\n`;
    return {
      text: headText.toString('utf8') + marker + tailText.toString('utf8'),
      truncated: true,
      totalBytes: this.total,
    };
  }
}

/** Drops a multi-byte sequence cut off at the end of `buf`. */
export function cutIncompleteEnd(buf: Buffer): Buffer {
  // A sequence is at most 4 bytes: look back at most 3 bytes for its lead byte.
  for (let back = 1; back <= Math.min(4, buf.length); back++) {
    const byte = buf[buf.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? buf.subarray(0, buf.length - back) : buf;
  }
  return buf;
}

/** Drops continuation bytes at the start of `buf` whose lead byte was cut off. */
export function skipIncompleteStart(buf: Buffer): Buffer {
  let start = 0;
  while (start < Math.min(3, buf.length) && (buf[start]! & 0xc0) === 0x80) start++;
  return buf.subarray(start);
}
