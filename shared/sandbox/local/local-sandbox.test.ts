import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../log';
import type { SandboxLimits, SandboxOutcome, SandboxSpec } from '../port';
import {
  createLocalSandbox,
  createRuntimeList,
  DEFAULT_LOCAL_LIMITS,
  type LocalSandbox,
} from './local-sandbox';

const hasBwrap = existsSync('/usr/bin/bwrap');
if (!hasBwrap)
  console.warn('local sandbox tests skipped: /usr/bin/bwrap is not installed (apt-get install bubblewrap)');

const LIMITS: SandboxLimits = { ...DEFAULT_LOCAL_LIMITS, wallTimeoutMs: 20_000, cpuTimeMs: 10_000 };
const log = createLogger('silent');
const TIMEOUT = 60_000;

let workDir = '';
let sandbox: LocalSandbox;
let pythonVersion = '';

type Overrides = Omit<Partial<SandboxSpec>, 'limits'> & { limits?: Partial<SandboxLimits> };

function spec(script: string, overrides: Overrides = {}): SandboxSpec {
  const { limits, ...rest } = overrides;
  return {
    executionId: `test-${Math.random().toString(36).slice(2, 10)}`,
    language: 'python',
    version: pythonVersion,
    script,
    stdin: '',
    ...rest,
    limits: { ...LIMITS, ...limits },
  };
}

async function runPython(script: string, overrides: Overrides = {}): Promise<SandboxOutcome> {
  return sandbox.start(spec(script, overrides)).outcome;
}

/** Host pids whose command line contains `needle`. */
function hostPidsWith(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

describe.skipIf(!hasBwrap)('local sandbox (real bubblewrap)', () => {
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'sandbox-test-'));
    sandbox = await createLocalSandbox({ workDir, allowUnsandboxed: false, log, probeRuntimes: false });
    pythonVersion = sandbox.runtimes().find((r) => r.language === 'python')!.version;
  }, TIMEOUT);

  afterAll(async () => {
    await sandbox?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('is ready and lists what it enforces', async () => {
    const status = await sandbox.check();
    expect(status.ready).toBe(true);
    expect(status.features.join('\n')).toMatch(/bubblewrap \d+\.\d+/);
    expect(status.features.join('\n')).toContain('seccomp');
    expect(pythonVersion).toMatch(/^3\.\d+$/);
    expect(sandbox.runtimes().find((r) => r.language === 'python')?.fileExt).toBe('py');
  });

  it('a runtime list offers what the sandbox offers, or nothing, and runs no script', async () => {
    const listed = await createRuntimeList({ list: true, log });
    expect(listed.runtimes()).toEqual(sandbox.runtimes());
    expect((await createRuntimeList({ list: false, log })).runtimes()).toEqual([]);
    const outcome = await listed.start(spec('print(1)')).outcome;
    expect(outcome.reason).toBe('sandbox_error');
    expect(outcome.startedAt).toBeNull();
    expect((await listed.check()).ready).toBe(false);
  });

  it(
    'runs hello world, reports start and streams output live',
    async () => {
      const live: string[] = [];
      let started: { podName: string; startedAt: Date } | null = null;
      const run = sandbox.start(spec('print("hello world")'), {
        onStarted: (info) => {
          started = info;
        },
        onOutput: (stream, chunk) => live.push(`${stream}:${chunk}`),
      });
      const outcome = await run.outcome;
      expect(outcome.reason).toBe('exited');
      expect(outcome.exitCode).toBe(0);
      expect(outcome.stdout).toEqual({ text: 'hello world\n', truncated: false, totalBytes: 12 });
      expect(live).toEqual(['stdout:hello world\n']);
      expect(started).not.toBeNull();
      expect(started!.podName).toBe(run.podName);
      expect(outcome.startedAt).toEqual(started!.startedAt);
    },
    TIMEOUT,
  );

  it(
    'keeps stdout and stderr apart, and reports a non-zero exit',
    async () => {
      const outcome = await runPython('import sys\nprint("out")\nprint("err", file=sys.stderr)\nsys.exit(3)');
      expect(outcome.reason).toBe('exited');
      expect(outcome.exitCode).toBe(3);
      expect(outcome.signal).toBeNull();
      expect(outcome.stdout.text).toBe('out\n');
      expect(outcome.stderr.text).toBe('err\n');
    },
    TIMEOUT,
  );

  it(
    'reports 128 + signal when the script is killed by a signal',
    async () => {
      const outcome = await runPython('import os, signal\nos.kill(os.getpid(), signal.SIGTERM)');
      expect(outcome.exitCode).toBe(128 + 15);
      expect(outcome.signal).toBe('SIGTERM');
    },
    TIMEOUT,
  );

  it(
    'feeds stdin and closes it',
    async () => {
      const outcome = await runPython('import sys\ndata = sys.stdin.read()\nprint(data.upper(), end="")', {
        stdin: 'echo me\nline two\n',
      });
      expect(outcome.stdout.text).toBe('ECHO ME\nLINE TWO\n');
    },
    TIMEOUT,
  );

  it(
    'stops a run at the wall time limit',
    async () => {
      const began = Date.now();
      const outcome = await runPython('import time\nprint("going", flush=True)\ntime.sleep(60)', {
        limits: { wallTimeoutMs: 1500 },
      });
      expect(outcome.reason).toBe('wall_timeout');
      expect(outcome.stdout.text).toBe('going\n');
      expect(Date.now() - began).toBeLessThan(8000);
      expect(outcome.usage!.wallMs).toBeGreaterThanOrEqual(1400);
    },
    TIMEOUT,
  );

  it(
    'stops a busy loop at the CPU time limit and measures its CPU time',
    async () => {
      const outcome = await runPython('while True:\n    pass', {
        limits: { cpuTimeMs: 1000, wallTimeoutMs: 20_000 },
      });
      expect(outcome.reason).toBe('cpu_timeout');
      expect(outcome.usage!.cpuMs).toBeGreaterThanOrEqual(900);
      expect(outcome.usage!.cpuMs).toBeLessThan(5000);
    },
    TIMEOUT,
  );

  it(
    'stops CPU time spread over several processes by the cgroup total',
    async () => {
      const script =
        'import os\nfor _ in range(3):\n    if os.fork() == 0:\n        break\nwhile True:\n    pass';
      const outcome = await runPython(script, { limits: { cpuTimeMs: 1000, wallTimeoutMs: 20_000 } });
      expect(outcome.reason).toBe('cpu_timeout');
      expect(outcome.usage!.cpuMs).toBeGreaterThanOrEqual(1000);
    },
    TIMEOUT,
  );

  it(
    'kills a script that exceeds its memory limit',
    async () => {
      const script =
        'data = bytearray(500 * 1024 * 1024)\nfor i in range(0, len(data), 4096):\n    data[i] = 1\nprint("survived")';
      const outcome = await runPython(script, { limits: { memoryBytes: 64 * 1024 * 1024 } });
      expect(outcome.reason).toBe('memory_limit');
      expect(outcome.stdout.text).not.toContain('survived');
      expect(outcome.usage!.peakMemoryBytes).toBeLessThanOrEqual(64 * 1024 * 1024);
    },
    TIMEOUT,
  );

  it(
    'contains a fork bomb',
    async () => {
      const script = [
        'import os, time',
        'while True:',
        '    try:',
        '        os.fork()',
        '    except OSError:',
        '        break',
        'time.sleep(1)',
      ].join('\n');
      const began = Date.now();
      const outcome = await runPython(script, { limits: { maxProcesses: 16 } });
      expect(outcome.reason).toBe('process_limit');
      expect(outcome.exitCode).toBe(0);
      expect(Date.now() - began).toBeLessThan(15_000);
      // This process is unaffected and can still start processes.
      const after = await runPython('print("still fine")');
      expect(after.stdout.text).toBe('still fine\n');
    },
    TIMEOUT,
  );

  describe('network', () => {
    let server: Server;
    let port = 0;
    beforeAll(async () => {
      server = createServer((socket) => socket.end('reached the host\n'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it(
      'cannot reach a host service or resolve names',
      async () => {
        const script = [
          'import socket',
          'try:',
          `    s = socket.create_connection(("127.0.0.1", ${port}), timeout=3)`,
          '    print("connected", s.recv(100))',
          'except OSError as e:',
          '    print("connect failed", type(e).__name__)',
          'try:',
          '    print("resolved", socket.getaddrinfo("example.com", 443))',
          'except OSError as e:',
          '    print("dns failed", type(e).__name__)',
        ].join('\n');
        const outcome = await runPython(script);
        expect(outcome.stdout.text).toContain('connect failed');
        expect(outcome.stdout.text).toContain('dns failed');
        expect(outcome.stdout.text).not.toContain('reached the host');
      },
      TIMEOUT,
    );
  });

  it(
    'truncates a 20 MB flood to head and tail with the exact byte count, quickly',
    async () => {
      const script = [
        'import sys',
        'out = sys.stdout.buffer',
        'out.write(b"HEAD-MARK\\n")',
        'block = b"x" * 1048575 + b"\\n"',
        'for _ in range(20):',
        '    out.write(block)',
        'out.write(b"TAIL-MARK\\n")',
      ].join('\n');
      const cap = 64 * 1024;
      let liveBytes = 0;
      const began = Date.now();
      const outcome = await sandbox.start(spec(script, { limits: { outputBytesPerStream: cap } }), {
        onOutput: (_stream, chunk) => {
          liveBytes += Buffer.byteLength(chunk);
        },
      }).outcome;
      expect(outcome.reason).toBe('exited');
      expect(outcome.stdout.truncated).toBe(true);
      expect(outcome.stdout.totalBytes).toBe(10 + 20 * 1048576 + 10);
      expect(outcome.stdout.text.startsWith('HEAD-MARK\n')).toBe(true);
      expect(outcome.stdout.text.endsWith('TAIL-MARK\n')).toBe(true);
      expect(outcome.stdout.text).toContain('bytes omitted');
      expect(Buffer.byteLength(outcome.stdout.text)).toBeLessThan(cap + 200);
      expect(liveBytes).toBeLessThanOrEqual(cap);
      expect(Date.now() - began).toBeLessThan(10_000);
    },
    TIMEOUT,
  );

  it(
    'cancel kills the whole tree, including a setsid/nohup child',
    async () => {
      const needle = `${Math.floor(Math.random() * 900) + 100}.4321`;
      const script = [
        'import subprocess, time',
        `subprocess.Popen(["setsid", "nohup", "sleep", "${needle}"], start_new_session=True)`,
        'print("spawned", flush=True)',
        'time.sleep(120)',
      ].join('\n');
      let sawOutput!: () => void;
      const spawned = new Promise<void>((resolve) => {
        sawOutput = resolve;
      });
      const run = sandbox.start(spec(script), { onOutput: () => sawOutput() });
      await spawned;
      let pids: number[] = [];
      for (let i = 0; i < 50 && pids.length === 0; i++) {
        pids = hostPidsWith(needle);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(pids.length).toBe(1);
      await run.cancel();
      const outcome = await run.outcome;
      expect(outcome.reason).toBe('cancelled');
      for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    },
    TIMEOUT,
  );

  it(
    'has a read-only root and system dirs, and a capped /tmp',
    async () => {
      const script = [
        'import os',
        'for path in ["/usr/evil", "/evil", "/sandbox/evil", "/etc/evil"]:',
        '    try:',
        '        open(path, "w").write("x")',
        '        print("wrote", path)',
        '    except OSError as e:',
        '        print("denied", path, e.errno)',
        'chunk = b"y" * (600 * 1024)',
        'for i in range(4):',
        '    try:',
        '        with open(f"/tmp/f{i}", "wb") as f:',
        '            f.write(chunk)',
        '        print("tmp ok", i)',
        '    except OSError as e:',
        '        print("tmp full", i, e.errno)',
        '        break',
      ].join('\n');
      const outcome = await runPython(script, { limits: { tmpBytes: 1024 * 1024 } });
      expect(outcome.stdout.text).not.toContain('wrote');
      expect(outcome.stdout.text.match(/denied/g)?.length).toBe(4);
      expect(outcome.stdout.text).toContain('tmp ok 0');
      expect(outcome.stdout.text).toMatch(/tmp full 1 28/); // ENOSPC
    },
    TIMEOUT,
  );

  it(
    'hides the server environment, runs as a non-root user, sees only its own processes',
    async () => {
      process.env.SECRET_KEY = 'do-not-leak-7f3a';
      try {
        const script = [
          'import os, json',
          'pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())',
          'print(json.dumps({"env": dict(os.environ), "uid": os.getuid(), "euid": os.geteuid(), "pids": pids}))',
        ].join('\n');
        const outcome = await runPython(script);
        const seen = JSON.parse(outcome.stdout.text) as {
          env: Record<string, string>;
          uid: number;
          euid: number;
          pids: number[];
        };
        expect(JSON.stringify(seen.env)).not.toContain('do-not-leak-7f3a');
        expect(seen.env.SECRET_KEY).toBeUndefined();
        expect(seen.env.PYTHONUNBUFFERED).toBe('1');
        expect(seen.uid).toBe(65534);
        expect(seen.euid).toBe(65534);
        expect(seen.pids.length).toBeLessThanOrEqual(2);
        expect(Math.max(...seen.pids)).toBeLessThan(10);
      } finally {
        delete process.env.SECRET_KEY;
      }
    },
    TIMEOUT,
  );

  it(
    'applies the seccomp filter and drops every capability',
    async () => {
      const script = [
        'import ctypes, ctypes.util',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'print("unshare", libc.unshare(0x10000000), ctypes.get_errno())',
        'print("ptrace", libc.ptrace(16, 1, 0, 0), ctypes.get_errno())',
        'status = open("/proc/self/status").read()',
        'print([l for l in status.splitlines() if l.startswith(("Seccomp:", "CapEff:", "NoNewPrivs:"))])',
      ].join('\n');
      const outcome = await runPython(script);
      expect(outcome.stdout.text).toContain('unshare -1 1');
      expect(outcome.stdout.text).toContain('ptrace -1 1');
      expect(outcome.stdout.text).toContain("'Seccomp:\\t2'");
      expect(outcome.stdout.text).toContain("'CapEff:\\t0000000000000000'");
    },
    TIMEOUT,
  );

  it(
    'measures plausible usage and cleans up its cgroups and run dir',
    async () => {
      const script = [
        'import time',
        'data = bytearray(80 * 1024 * 1024)',
        'for i in range(0, len(data), 4096):',
        '    data[i] = 1',
        'end = time.process_time() + 0.4',
        'while time.process_time() < end:',
        '    pass',
      ].join('\n');
      const outcome = await runPython(script);
      expect(outcome.reason).toBe('exited');
      expect(outcome.usage!.cpuMs).toBeGreaterThanOrEqual(400);
      expect(outcome.usage!.peakMemoryBytes).toBeGreaterThanOrEqual(80 * 1024 * 1024);
      expect(outcome.usage!.wallMs).toBeGreaterThanOrEqual(outcome.usage!.cpuMs * 0.5);
      // Cleanup follows the outcome, off the result's path.
      await vi.waitFor(() => expect(readdirSync(join(workDir, 'runs'))).toEqual([]), { timeout: 2000 });
      const ownMemory = /:memory:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
      const parent = `/sys/fs/cgroup/memory${ownMemory}/integr8scode`;
      if (ownMemory && existsSync(parent)) {
        await vi.waitFor(
          () =>
            expect(readdirSync(parent).filter((name) => name.startsWith(`run-${process.pid}-`))).toEqual([]),
          { timeout: 2000 },
        );
      }
    },
    TIMEOUT,
  );

  it(
    'runs the other discovered runtimes',
    async () => {
      const programs: Record<string, string> = {
        node: 'console.log("hi from node", process.getuid())',
        bash: 'echo "hi from bash $(id -u)"',
      };
      for (const runtime of sandbox.runtimes()) {
        const script = programs[runtime.language];
        if (!script) continue;
        const outcome = await sandbox.start(
          spec(script, { language: runtime.language, version: runtime.version }),
        ).outcome;
        expect(outcome.reason, runtime.language).toBe('exited');
        expect(outcome.stdout.text).toBe(`hi from ${runtime.language} 65534\n`);
      }
    },
    TIMEOUT,
  );

  it('refuses a language or version it does not have', async () => {
    const outcome = await runPython('print(1)', { language: 'cobol', version: '1' });
    expect(outcome.reason).toBe('sandbox_error');
    expect(outcome.exitCode).toBe(-1);
    expect(outcome.message).toContain('cobol 1');
  });

  it(
    'close() kills every run still going',
    async () => {
      const runs = [
        sandbox.start(spec('import time\ntime.sleep(60)')),
        sandbox.start(spec('while True: pass')),
      ];
      await new Promise((resolve) => setTimeout(resolve, 300));
      const other = await createLocalSandbox({ workDir, allowUnsandboxed: false, log, probeRuntimes: false });
      const third = other.start(spec('import time\ntime.sleep(60)'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await other.close();
      expect((await third.outcome).reason).toBe('cancelled');
      for (const run of runs) await run.cancel();
      for (const run of runs) expect((await run.outcome).reason).toBe('cancelled');
    },
    TIMEOUT,
  );
});

describe.skipIf(!hasBwrap)('local sandbox without cgroups (rlimits and getrusage)', () => {
  let fallbackDir = '';
  let fallback: LocalSandbox;
  beforeAll(async () => {
    fallbackDir = await mkdtemp(join(tmpdir(), 'sandbox-test-nocg-'));
    fallback = await createLocalSandbox({
      workDir: fallbackDir,
      allowUnsandboxed: false,
      log,
      cgroups: 'off',
      probeRuntimes: false,
    });
    pythonVersion = fallback.runtimes().find((r) => r.language === 'python')!.version;
  }, TIMEOUT);
  afterAll(async () => {
    await fallback?.close();
    await rm(fallbackDir, { recursive: true, force: true });
  });

  it('says so in its features', async () => {
    const status = await fallback.check();
    expect(status.ready).toBe(true);
    expect(status.features.join('\n')).toContain('no writable cgroups');
  });

  it(
    'limits memory by address space and reports CPU and peak memory from rusage',
    async () => {
      const big = await fallback.start(
        spec('data = bytearray(500 * 1024 * 1024)\nprint("survived")', {
          limits: { memoryBytes: 128 * 1024 * 1024 },
        }),
      ).outcome;
      expect(big.stdout.text).not.toContain('survived');
      expect(big.stderr.text).toContain('MemoryError');

      const busy = await fallback.start(
        spec(
          'data = bytearray(40 * 1024 * 1024)\nn = 0\nfor i in range(3_000_000):\n    n += i\nprint("done")',
          {
            limits: { memoryBytes: 256 * 1024 * 1024 },
          },
        ),
      ).outcome;
      expect(busy.reason).toBe('exited');
      expect(busy.stdout.text).toBe('done\n');
      expect(busy.usage!.cpuMs).toBeGreaterThan(50);
      expect(busy.usage!.peakMemoryBytes).toBeGreaterThanOrEqual(40 * 1024 * 1024);
    },
    TIMEOUT,
  );

  it(
    'bounds the number of processes with RLIMIT_NPROC inside the user namespace',
    async () => {
      const script = [
        'import os, time',
        'n = 0',
        'while True:',
        '    try:',
        '        pid = os.fork()',
        '    except OSError:',
        '        break',
        '    if pid == 0:',
        '        time.sleep(30)',
        '        os._exit(0)',
        '    n += 1',
        'print("forked", n)',
      ].join('\n');
      const began = Date.now();
      const outcome = await fallback.start(spec(script, { limits: { maxProcesses: 16 } })).outcome;
      const forked = Number(/forked (\d+)/.exec(outcome.stdout.text)?.[1]);
      expect(forked).toBeGreaterThanOrEqual(10);
      expect(forked).toBeLessThanOrEqual(16);
      expect(Date.now() - began).toBeLessThan(15_000);
    },
    TIMEOUT,
  );

  it(
    'still stops a busy loop at the CPU limit',
    async () => {
      const outcome = await fallback.start(spec('while True: pass', { limits: { cpuTimeMs: 1000 } })).outcome;
      expect(outcome.reason).toBe('cpu_timeout');
      expect(outcome.usage!.cpuMs).toBeGreaterThanOrEqual(900);
    },
    TIMEOUT,
  );
});

describe('local sandbox when bubblewrap is unusable', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sandbox-test-nobwrap-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it(
    'is not ready, says how to fix it, and refuses to run',
    async () => {
      const broken = await createLocalSandbox({
        workDir: dir,
        allowUnsandboxed: false,
        log,
        bwrapPath: '/usr/bin/no-such-bwrap',
        probeRuntimes: false,
      });
      const status = await broken.check();
      expect(status.ready).toBe(false);
      expect(status.problem).toContain('apt-get install bubblewrap');
      const version = broken.runtimes().find((r) => r.language === 'python')!.version;
      const outcome = await broken.start({ ...spec('print(1)'), version }).outcome;
      expect(outcome.reason).toBe('sandbox_error');
      expect(outcome.message).toContain('apt-get install bubblewrap');
      expect(outcome.startedAt).toBeNull();
      await broken.close();
    },
    TIMEOUT,
  );

  it(
    'runs with rlimits only, loudly, when unsandboxed runs are allowed',
    async () => {
      const lines: string[] = [];
      const recording = {
        debug: () => undefined,
        info: () => undefined,
        warn: (msg: string) => lines.push(msg),
        error: (msg: string) => lines.push(msg),
        child: () => recording,
      };
      const unsafe = await createLocalSandbox({
        workDir: dir,
        allowUnsandboxed: true,
        log: recording,
        bwrapPath: '/usr/bin/no-such-bwrap',
        probeRuntimes: false,
      });
      const status = await unsafe.check();
      expect(status.ready).toBe(true);
      expect(status.features.join('\n')).toContain('UNSANDBOXED');
      expect(lines.some((line) => line.includes('SANDBOX DISABLED'))).toBe(true);
      const version = unsafe.runtimes().find((r) => r.language === 'python')!.version;
      const before = lines.length;
      const outcome = await unsafe.start({
        ...spec('import os\nprint("ran", "SECRET_KEY" in os.environ)'),
        version,
      }).outcome;
      expect(outcome.reason).toBe('exited');
      expect(outcome.stdout.text).toBe('ran False\n');
      expect(lines.slice(before).some((line) => line.includes('WITHOUT sandbox'))).toBe(true);
      const busy = await unsafe.start({
        ...spec('while True: pass', { limits: { cpuTimeMs: 1000 } }),
        version,
      }).outcome;
      expect(busy.reason, JSON.stringify({ ...busy, stdout: undefined })).toBe('cpu_timeout');
      await unsafe.close();
    },
    TIMEOUT,
  );
});
