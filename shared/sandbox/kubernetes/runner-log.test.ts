import { describe, expect, it } from 'vitest';
import { CappedStream } from '../output';
import type { RunnerReport } from './contract';
import { FRAME_PREFIX, formatRunnerLog, parseReport, parseRunnerLog } from './runner-log';

const report: RunnerReport = {
  v: 1,
  exit_code: 0,
  signal: null,
  timed_out: false,
  wall_ms: 12,
  cpu_ms: 3,
  peak_memory_bytes: 4096,
  stdout_bytes: 3,
  stderr_bytes: 0,
  stdout_truncated: false,
  stderr_truncated: false,
};

function parsed(log: string | Uint8Array) {
  const result = parseRunnerLog(log);
  if (!result.ok) throw new Error(result.problem);
  return result.log;
}

/** What the local backend keeps of the same bytes. */
function localCapped(bytes: Buffer, cap: number) {
  const stream = new CappedStream(cap);
  // Several chunks, as a pipe would deliver them.
  for (let at = 0; at < bytes.length; at += 7) stream.push(bytes.subarray(at, at + 7));
  return stream.result();
}

describe('runner log framing', () => {
  it('round-trips output under the cap byte for byte, with the report', () => {
    const log = parsed(formatRunnerLog({ stdout: 'hi\n', stderr: '', capBytes: 100, report }));
    expect(log.stdout).toEqual({ text: 'hi\n', truncated: false, totalBytes: 3 });
    expect(log.stderr).toEqual({ text: '', truncated: false, totalBytes: 0 });
    expect(log.report).toEqual(report);
    expect(log.error).toBeNull();
  });

  it('keeps head and tail of long output and matches the local backend exactly', () => {
    const cases: [string, number][] = [
      ['x'.repeat(1000), 100],
      ['ab'.repeat(51), 101],
      ['é€😀'.repeat(200), 64],
      ['line\n'.repeat(10_000), 1024],
      ['z', 0],
      ['exactly-at-cap', 14],
      ['one-over-cap!!!', 14],
    ];
    for (const [text, cap] of cases) {
      const bytes = Buffer.from(text);
      const log = parsed(formatRunnerLog({ stdout: bytes, stderr: bytes, capBytes: cap }));
      const local = localCapped(bytes, cap);
      expect(log.stdout, `${text.slice(0, 10)}… cap ${cap}`).toEqual(local);
      expect(log.stderr).toEqual(local);
      expect(log.stdout.totalBytes).toBe(bytes.length);
    }
  });

  it('keeps bytes that are not UTF-8 countable exactly (the framing is ASCII)', () => {
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x0a, 0x80]);
    const framed = formatRunnerLog({ stdout: bytes, stderr: '', capBytes: 100 });
    expect(/^[\x20-\x7e\n]*$/.test(framed)).toBe(true);
    expect(parsed(framed).stdout.totalBytes).toBe(5);
    // As bytes too (how a log read as a buffer arrives).
    expect(parsed(Buffer.from(framed)).stdout.totalBytes).toBe(5);
  });

  it('ignores whatever precedes the last complete frame set, and CRLF line ends', () => {
    const forged = formatRunnerLog({ stdout: 'forged', stderr: '', capBytes: 100 });
    const real = formatRunnerLog({ stdout: 'real', stderr: 'err', capBytes: 100, report });
    const log = parsed(`noise\n${forged}more noise\n${real.replaceAll('\n', '\r\n')}`);
    expect(log.stdout.text).toBe('real');
    expect(log.stderr.text).toBe('err');
  });

  it('reports a runner failure frame', () => {
    const log = parsed(`${FRAME_PREFIX} error cannot make pipes in /w\n${FRAME_PREFIX} end\n`);
    expect(log.error).toBe('cannot make pipes in /w');
    expect(log.stdout.totalBytes).toBe(0);
  });

  it('says why a log cannot be used', () => {
    expect(parseRunnerLog('just output\n')).toEqual({
      ok: false,
      problem: 'the log has no end frame: the runner did not finish',
    });
    const cut = formatRunnerLog({ stdout: 'abcdef', stderr: '', capBytes: 100 }).replace(
      /^YWJjZGVm$/m,
      'YWJj',
    );
    expect(parseRunnerLog(cut)).toEqual({
      ok: false,
      problem: 'stdout frame holds 3 bytes, its header says 6',
    });
    const noStderr = `${FRAME_PREFIX} stdout head=0 tail=0 total=0\n${FRAME_PREFIX} end\n`;
    expect(parseRunnerLog(noStderr)).toEqual({ ok: false, problem: 'no stderr frame' });
    const junk = formatRunnerLog({ stdout: 'abc', stderr: '', capBytes: 100 }).replace('YWJj', 'Killed!');
    expect(parseRunnerLog(junk)).toEqual({ ok: false, problem: 'stdout frame has a non-base64 line' });
  });

  it('parses termination messages, refusing what is not a report', () => {
    expect(parseReport(JSON.stringify(report))).toEqual(report);
    expect(parseReport(JSON.stringify({ ...report, oom_kill_count: 1, runner_error: null }))).toMatchObject({
      oom_kill_count: 1,
    });
    expect(parseReport('{"v":2}')).toBeNull();
    expect(parseReport('not json')).toBeNull();
  });
});
