/**
 * Runs the runner as a plain script with this machine's /bin/sh, pointed at a temporary directory
 * instead of the container's cgroup, termination log and volumes.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CappedStream } from '../output';
import type { RunnerReport } from './contract';
import { parseReport, parseRunnerLog, type RunnerLog } from './runner-log';
import { RUNNER_ENV, RUNNER_SCRIPT } from './runner-script';

const root = mkdtempSync(path.join(tmpdir(), 'integr8scode-runner-'));
const runnerFile = path.join(root, 'runner.sh');
writeFileSync(runnerFile, RUNNER_SCRIPT);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));
const SCRIPT_ENV = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/tmp', 'LANG=C.UTF-8'];
let runs = 0;

interface RunResult {
  exitCode: number;
  stdout: string;
  report: RunnerReport;
  log: RunnerLog;
  dir: string;
}

/** Runs `command` through the runner; `cgroup` files are written into the fake cgroup dir first. */
async function runRunner(
  command: string[],
  options: {
    stdin?: string;
    env?: Record<string, string>;
    cgroup?: Record<string, string>;
    timeoutSeconds?: number;
    outputLimit?: number;
  } = {},
): Promise<RunResult> {
  const dir = path.join(root, `run-${++runs}`);
  const cgroup = path.join(dir, 'cgroup');
  mkdirSync(cgroup, { recursive: true });
  for (const [file, content] of Object.entries(options.cgroup ?? {})) {
    mkdirSync(path.dirname(path.join(cgroup, file)), { recursive: true });
    writeFileSync(path.join(cgroup, file), content);
  }
  if (options.stdin !== undefined) writeFileSync(path.join(dir, 'stdin'), options.stdin);
  const env = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    [RUNNER_ENV.cgroupDir]: cgroup,
    [RUNNER_ENV.terminationLog]: path.join(dir, 'termination-log'),
    [RUNNER_ENV.workDir]: path.join(dir, 'work'),
    [RUNNER_ENV.stdinFile]: path.join(dir, 'stdin'),
    [RUNNER_ENV.timeoutSeconds]: String(options.timeoutSeconds ?? 10),
    [RUNNER_ENV.outputLimit]: String(options.outputLimit ?? 1024),
    ...options.env,
  };
  const { exitCode, stdout } = await new Promise<{ exitCode: number; stdout: string }>((resolve) => {
    execFile(
      '/bin/sh',
      [runnerFile, ...SCRIPT_ENV, ...command],
      { env, cwd: dir, maxBuffer: 64 * 1024 * 1024, timeout: 30_000 },
      (error, out) => resolve({ exitCode: error ? Number(error.code ?? -1) : 0, stdout: out }),
    );
  });
  const report = parseReport(readFileSync(path.join(dir, 'termination-log'), 'utf8'));
  if (!report) throw new Error(`no valid report; log:\n${stdout}`);
  const parsed = parseRunnerLog(stdout);
  if (!parsed.ok) throw new Error(`${parsed.problem}; log:\n${stdout}`);
  return { exitCode, stdout, report, log: parsed.log, dir };
}

const sh = (script: string) => ['/bin/sh', '-c', script];

describe('runner.sh', () => {
  it.skipIf(!python)(
    'runs a python script with its stdin and reports exit code, output and usage',
    async () => {
      const scriptFile = path.join(root, 'main.py');
      writeFileSync(
        scriptFile,
        'import sys\nprint("got", sys.stdin.read())\nprint("warn", file=sys.stderr)\nsys.exit(3)\n',
      );
      const result = await runRunner([python!, scriptFile], {
        stdin: 'hello',
        cgroup: { 'cpu.stat': 'usage_usec 1000\nuser_usec 600\n', 'memory.peak': '7340032\n' },
      });
      expect(result.exitCode).toBe(3);
      expect(result.log.stdout).toEqual({ text: 'got hello\n', truncated: false, totalBytes: 10 });
      expect(result.log.stderr.text).toBe('warn\n');
      expect(result.report).toMatchObject({
        v: 1,
        exit_code: 3,
        signal: null,
        timed_out: false,
        cpu_ms: 0,
        peak_memory_bytes: 7340032,
        stdout_bytes: 10,
        stderr_bytes: 5,
        stdout_truncated: false,
        stderr_truncated: false,
      });
      expect(result.report.wall_ms).toBeGreaterThan(0);
      // The log carries the same report as the termination message.
      expect(result.log.report).toEqual(result.report);
    },
  );

  it('measures CPU time as the cgroup counter moves during the run, and counts OOM kills (cgroup v2)', async () => {
    const result = await runRunner(
      sh(
        'cg=$1; printf "usage_usec 251000\\n" > "$cg/cpu.stat"; printf "oom_kill 2\\n" > "$cg/memory.events"',
      ).concat('sh', path.join(root, `run-${runs + 1}`, 'cgroup')),
      { cgroup: { 'cpu.stat': 'usage_usec 1000\n', 'memory.events': 'oom 0\noom_kill 0\n' } },
    );
    expect(result.report.cpu_ms).toBe(250);
    expect(result.report.oom_kill_count).toBe(2);
  });

  it('falls back to cgroup v1 files, and reports null without any', async () => {
    const v1 = await runRunner(sh('true'), {
      cgroup: {
        'cpuacct/cpuacct.usage': '5000000\n',
        'memory/memory.max_usage_in_bytes': '1234\n',
        'memory/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
      },
    });
    expect(v1.report).toMatchObject({ cpu_ms: 0, peak_memory_bytes: 1234, oom_kill_count: 0 });
    const none = await runRunner(sh('true'));
    expect(none.report).toMatchObject({ cpu_ms: null, peak_memory_bytes: null, oom_kill_count: null });
  });

  it('keeps head and tail with exact counts, the same text the local backend keeps', async () => {
    const result = await runRunner(sh('seq 1 200000; seq 1 3000 >&2'), { outputLimit: 1000 });
    const expected = (text: string) => {
      const stream = new CappedStream(1000);
      stream.push(Buffer.from(text));
      return stream.result();
    };
    const numbers = (n: number) => `${Array.from({ length: n }, (_, i) => i + 1).join('\n')}\n`;
    expect(result.log.stdout).toEqual(expected(numbers(200_000)));
    expect(result.log.stderr).toEqual(expected(numbers(3000)));
    expect(result.report).toMatchObject({
      stdout_bytes: Buffer.byteLength(numbers(200_000)),
      stdout_truncated: true,
      stderr_truncated: true,
    });
  });

  it('stops the script and everything it started at the wall-clock limit', async () => {
    const started = Date.now();
    const result = await runRunner(sh('echo before; (sleep 30; echo child) & sleep 30; echo after'), {
      timeoutSeconds: 1,
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.exitCode).toBe(137);
    expect(result.report).toMatchObject({ exit_code: 137, signal: 'SIGKILL', timed_out: true });
    expect(result.report.wall_ms).toBeGreaterThanOrEqual(900);
    expect(result.log.stdout.text).toBe('before\n');
  });

  it('names the signal that ended the script', async () => {
    const result = await runRunner(sh('kill -s SEGV $$'));
    expect(result.report).toMatchObject({ exit_code: 139, signal: 'SIGSEGV', timed_out: false });
  });

  it('gives the script only its own environment and applies the CPU and process limits', async () => {
    const result = await runRunner(sh('env | sort; ulimit -t; ulimit -p 2>/dev/null || ulimit -u'), {
      env: { [RUNNER_ENV.cpuSeconds]: '7', [RUNNER_ENV.maxProcesses]: '99', SECRET_TOKEN: 'leak' },
    });
    const lines = result.log.stdout.text.trim().split('\n');
    expect(lines).not.toContainEqual(expect.stringContaining('SECRET_TOKEN'));
    expect(lines).not.toContainEqual(expect.stringContaining('RUNNER_'));
    expect(lines).toContain('HOME=/tmp');
    expect(lines.slice(-2)).toEqual(['7', '99']);
    // Setting the limits says nothing to the script, whichever shell runs the runner.
    expect(result.log.stderr.text).toBe('');
  });

  it('reports a command that does not exist as the script failing with 127', async () => {
    const result = await runRunner(['/no/such/interpreter', 'main.py']);
    expect(result.report).toMatchObject({ exit_code: 127, signal: null });
    expect(result.log.stderr.text).toContain('/no/such/interpreter');
  });

  it('says so when it cannot run the script at all', async () => {
    const result = await runRunner(sh('echo never'), { env: { [RUNNER_ENV.workDir]: '/dev/null/work' } });
    expect(result.exitCode).toBe(125);
    expect(result.report).toMatchObject({
      exit_code: -1,
      runner_error: 'cannot make pipes in /dev/null/work',
    });
    expect(result.log.error).toBe('cannot make pipes in /dev/null/work');
  });
});
