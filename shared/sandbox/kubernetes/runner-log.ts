/**
 * How the runner (runner-script.ts) frames the script's output in the container log, and the parser
 * monitor uses to read it back. Version 1, all ASCII, one frame per line group:
 *
 *   @@integr8scode-runner v1 stdout head=<H> tail=<T> total=<N>
 *   <base64 lines: the first H bytes the script wrote, then its last T bytes>
 *   @@integr8scode-runner v1 stderr head=<H> tail=<T> total=<N>
 *   <base64 lines>
 *   @@integr8scode-runner v1 report <the RunnerReport JSON, as in the termination message>
 *   @@integr8scode-runner v1 end
 *
 * or, when the runner could not run the script at all:
 *
 *   @@integr8scode-runner v1 error <why>
 *   @@integr8scode-runner v1 end
 *
 * N counts every byte of the stream; H + T = N when nothing was dropped, else the N - H - T bytes in
 * between were. Each stream keeps at most OUTPUT_LIMIT bytes: a head of floor(limit / 2) and a tail of
 * the rest, as the local backend does, and parses to the same text (with the same omission marker).
 * base64 keeps byte counts exact whatever the script wrote and however the log is decoded.
 *
 * The runner writes frames only after the script and everything it started have ended, so its frames
 * are the log's last; the parser takes the set closed by the last `end` line and ignores anything else
 * (a script that writes to the log directly can only add lines before them).
 */
import * as v from 'valibot';
import { cutIncompleteEnd, skipIncompleteStart } from '../output';
import type { CappedOutput } from '../port';
import { type RunnerReport, RunnerReportSchema } from './contract';

export const FRAME_PREFIX = '@@integr8scode-runner v1';

export interface RunnerLog {
  stdout: CappedOutput;
  stderr: CappedOutput;
  /** The report line (the termination message is the primary copy); null if absent or invalid. */
  report: RunnerReport | null;
  /** The runner's own failure (`error` frame), else null. */
  error: string | null;
}

export type ParsedRunnerLog = { ok: true; log: RunnerLog } | { ok: false; problem: string };

const STREAM_HEADER = /^(stdout|stderr) head=(\d+) tail=(\d+) total=(\d+)$/;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

interface StreamFrame {
  head: number;
  tail: number;
  total: number;
  body: string[];
}

interface FrameSet {
  streams: Partial<Record<'stdout' | 'stderr', StreamFrame>>;
  report: string | null;
  error: string | null;
}

/** The text a stream keeps: everything, or head, the omission marker and tail (as CappedStream). */
function cappedText(bytes: Buffer, frame: StreamFrame): CappedOutput {
  if (frame.head + frame.tail >= frame.total) {
    return { text: bytes.toString('utf8'), truncated: false, totalBytes: frame.total };
  }
  const head = cutIncompleteEnd(bytes.subarray(0, frame.head));
  const tail = skipIncompleteStart(bytes.subarray(frame.head));
  const omitted = frame.total - head.length - tail.length;
  const marker = `\n… [${omitted} bytes omitted, ${frame.total} bytes in total] …\n`;
  return {
    text: head.toString('utf8') + marker + tail.toString('utf8'),
    truncated: true,
    totalBytes: frame.total,
  };
}

function decodeStream(name: string, frame: StreamFrame | undefined): CappedOutput | string {
  if (!frame) return `no ${name} frame`;
  for (const line of frame.body) if (!BASE64_LINE.test(line)) return `${name} frame has a non-base64 line`;
  const bytes = Buffer.from(frame.body.join(''), 'base64');
  if (bytes.length !== frame.head + frame.tail) {
    return `${name} frame holds ${bytes.length} bytes, its header says ${frame.head + frame.tail}`;
  }
  return cappedText(bytes, frame);
}

/** Reads the frames of a container log (text or bytes); `problem` says why there are none usable. */
export function parseRunnerLog(log: string | Uint8Array): ParsedRunnerLog {
  const text = typeof log === 'string' ? log : Buffer.from(log).toString('latin1');
  let current: FrameSet = { streams: {}, report: null, error: null };
  let closed: FrameSet | null = null;
  let body: string[] | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!line.startsWith(`${FRAME_PREFIX} `)) {
      body?.push(line.trim());
      continue;
    }
    body = null;
    const rest = line.slice(FRAME_PREFIX.length + 1);
    const header = STREAM_HEADER.exec(rest);
    if (header) {
      const frame: StreamFrame = {
        head: Number(header[2]),
        tail: Number(header[3]),
        total: Number(header[4]),
        body: [],
      };
      current.streams[header[1] as 'stdout' | 'stderr'] = frame;
      body = frame.body;
    } else if (rest.startsWith('report ')) {
      current.report = rest.slice('report '.length);
    } else if (rest.startsWith('error ')) {
      current.error = rest.slice('error '.length);
    } else if (rest === 'end') {
      closed = current;
      current = { streams: {}, report: null, error: null };
    }
  }
  if (!closed) return { ok: false, problem: 'the log has no end frame: the runner did not finish' };

  const report = closed.report === null ? null : parseReport(closed.report);
  const empty: CappedOutput = { text: '', truncated: false, totalBytes: 0 };
  if (closed.error !== null) {
    return { ok: true, log: { stdout: empty, stderr: empty, report, error: closed.error } };
  }
  const stdout = decodeStream('stdout', closed.streams.stdout);
  if (typeof stdout === 'string') return { ok: false, problem: stdout };
  const stderr = decodeStream('stderr', closed.streams.stderr);
  if (typeof stderr === 'string') return { ok: false, problem: stderr };
  return { ok: true, log: { stdout, stderr, report, error: null } };
}

/** A RunnerReport from JSON text (a report line or a termination message), or null if it is not one. */
export function parseReport(json: string): RunnerReport | null {
  try {
    const result = v.safeParse(RunnerReportSchema, JSON.parse(json));
    return result.success ? result.output : null;
  } catch {
    return null;
  }
}

/** The head and tail the runner keeps of `bytes` under `capBytes` (the same split as CappedStream). */
export function keptBytes(bytes: Uint8Array, capBytes: number): { head: Buffer; tail: Buffer } {
  const all = Buffer.from(bytes);
  const headCap = Math.floor(capBytes / 2);
  const head = all.subarray(0, Math.min(headCap, all.length));
  const tailLength = Math.min(capBytes - headCap, all.length - head.length);
  return { head, tail: all.subarray(all.length - tailLength) };
}

/**
 * The log the runner writes for this output and report: for tests on either side of the contract
 * (monitor's included), and the definition of the framing in code.
 */
export function formatRunnerLog(input: {
  stdout: Uint8Array | string;
  stderr: Uint8Array | string;
  capBytes: number;
  report?: RunnerReport;
}): string {
  const lines: string[] = [];
  for (const name of ['stdout', 'stderr'] as const) {
    const bytes = typeof input[name] === 'string' ? Buffer.from(input[name]) : Buffer.from(input[name]);
    const { head, tail } = keptBytes(bytes, input.capBytes);
    lines.push(`${FRAME_PREFIX} ${name} head=${head.length} tail=${tail.length} total=${bytes.length}`);
    // Wrapped at 76 columns, as base64(1) does.
    const encoded = Buffer.concat([head, tail]).toString('base64');
    for (let at = 0; at < encoded.length; at += 76) lines.push(encoded.slice(at, at + 76));
  }
  if (input.report) lines.push(`${FRAME_PREFIX} report ${JSON.stringify(input.report)}`);
  lines.push(`${FRAME_PREFIX} end`);
  return `${lines.join('\n')}\n`;
}
