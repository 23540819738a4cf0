/**
 * Sandbox overhead: 50 sequential hello-world Python runs through the local sandbox against 50 plain
 * spawns of the same interpreter. Run with `npx tsx bench/sandbox.ts`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../shared/log';
import { createLocalSandbox, DEFAULT_LOCAL_LIMITS } from '../shared/sandbox/local/local-sandbox';

const RUNS = 50;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(label: string, samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  console.log(
    `${label.padEnd(22)} p50 ${p50.toFixed(1).padStart(7)} ms   p99 ${p99.toFixed(1).padStart(7)} ms`,
  );
  return { p50, p99 };
}

function plainRun(): Promise<number> {
  return new Promise((resolve, reject) => {
    const began = process.hrtime.bigint();
    const child = spawn('/usr/bin/python3', ['-c', 'print(1)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.resume();
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`python exited with ${code}`));
      else resolve(Number(process.hrtime.bigint() - began) / 1e6);
    });
  });
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), 'sandbox-bench-'));
  const sandbox = await createLocalSandbox({
    workDir,
    allowUnsandboxed: false,
    log: createLogger('warn'),
    probeRuntimes: false,
  });
  try {
    const status = await sandbox.check();
    if (!status.ready) throw new Error(`sandbox not ready: ${status.problem}`);
    console.log(status.features.map((feature) => `  - ${feature}`).join('\n'));
    const python = sandbox.runtimes().find((runtime) => runtime.language === 'python')!;

    const plain: number[] = [];
    const sandboxed: number[] = [];
    await plainRun(); // warm the page cache
    for (let i = 0; i < RUNS; i++) plain.push(await plainRun());
    for (let i = 0; i < RUNS; i++) {
      const began = process.hrtime.bigint();
      const outcome = await sandbox.start({
        executionId: `bench-${i}`,
        language: 'python',
        version: python.version,
        script: 'print(1)',
        stdin: '',
        limits: DEFAULT_LOCAL_LIMITS,
      }).outcome;
      if (outcome.reason !== 'exited' || outcome.stdout.text !== '1\n') {
        throw new Error(`sandboxed run failed: ${outcome.reason} ${outcome.message}`);
      }
      // Measured to the resolved outcome: includes cgroup setup, measuring and cleanup.
      sandboxed.push(Number(process.hrtime.bigint() - began) / 1e6);
    }

    console.log(`\n${RUNS} sequential runs of print(1):`);
    const a = summary('plain spawn', plain);
    const b = summary('local sandbox', sandboxed);
    console.log(
      `overhead               p50 +${(b.p50 - a.p50).toFixed(1)} ms (x${(b.p50 / a.p50).toFixed(2)})` +
        `   p99 +${(b.p99 - a.p99).toFixed(1)} ms (x${(b.p99 / a.p99).toFixed(2)})`,
    );
  } finally {
    await sandbox.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
