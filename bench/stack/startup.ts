/**
 * Cold start of every function bundle: `node dist/functions/<name>.mjs` with PLATFORM=stack on the real
 * servers, from spawn to the first 200 from /health/readiness (polled every 5 ms), five times each.
 * Prints p50 and max per function and each bundle's size (its entry and chunks). One start before the
 * measured ones creates the run's database and its indexes, as a deployment's database already has them.
 * Run: `npm run build:functions && npx tsx bench/stack/startup.ts` (BENCH_STARTS overrides 5).
 */
import { existsSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { FUNCTIONS } from '../../functions/registry';
import { bundleBytes, bundlePath, ms, newRun, percentile, services, startProcess, verdict } from './support';

const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const TARGET_MS = 300;

const svc = services();
const run = newRun('startup', svc);
const mongo = new MongoClient(run.env.MONGO_URL!);
try {
  for (const { name } of FUNCTIONS)
    if (!existsSync(bundlePath(name)))
      throw new Error(`${bundlePath(name)} is missing: npm run build:functions`);
  await (await startProcess('auth', [bundlePath('auth')], run.env, { quiet: true })).stop();

  console.log(`\n== bundle start → /health/readiness 200, ${STARTS} starts each (PLATFORM=stack)`);
  console.log(
    `${'function'.padEnd(14)}${'bundle'.padStart(12)}${'p50'.padStart(12)}${'max'.padStart(12)}  target`,
  );
  const medians: number[] = [];
  for (const { name } of FUNCTIONS) {
    const times: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const started = await startProcess(name, [bundlePath(name)], run.env, { pollMs: 5, quiet: true });
      times.push(started.readyMs);
      await started.stop();
    }
    const p50 = percentile(times, 50);
    medians.push(p50);
    const kib = `${(bundleBytes(name) / 1024).toFixed(1)} KiB`;
    console.log(
      `${name.padEnd(14)}${kib.padStart(12)}${ms(p50).padStart(12)}${ms(Math.max(...times)).padStart(12)}  ${verdict(p50 <= TARGET_MS)}`,
    );
  }
  console.log(`every function p50 ≤ ${TARGET_MS} ms: ${verdict(medians.every((m) => m <= TARGET_MS))}`);
  await mongo.db(run.database).dropDatabase();
} finally {
  await mongo.close();
  run.cleanup();
}
