/**
 * Property-based fuzzing of the whole HTTP API from the product's own OpenAPI document: Schemathesis
 * (installed by `scripts/setup.sh --test` from test/api-fuzz/requirements.txt) generates valid and
 * invalid requests for every operation, signed in as an administrator, and the run fails on any 5xx.
 * Bounded by FUZZ_SECONDS (default 120) so CI time stays predictable.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAndLogin, type TestSession } from './support/http';
import { type RunningServer, startTestServer } from './support/server';

const CACHE = process.env.INTEGR8S_CACHE ?? path.join(process.env.HOME ?? tmpdir(), '.cache/integr8scode');
const SCHEMATHESIS = path.join(CACHE, 'schemathesis/bin/st');
const FUZZ_SECONDS = Number(process.env.FUZZ_SECONDS ?? 120);

let server: RunningServer;
let admin: TestSession;
let reportDir: string;

beforeAll(async () => {
  server = await startTestServer({
    // Generated scripts do run: keep each one small.
    EXECUTION_TIMEOUT_SECONDS: '2',
    MEMORY_LIMIT: '64Mi',
    OUTPUT_LIMIT: '16Ki',
  });
  const client = { request: (p: string, init?: RequestInit) => fetch(server.baseUrl + p, init) };
  admin = await registerAndLogin(client, {
    beforeLogin: (userId) => server.platform.store.users.update(userId, { role: 'admin' }),
  });
  reportDir = mkdtempSync(path.join(tmpdir(), 'integr8scode-fuzz-'));
});
afterAll(async () => {
  await server?.close();
  if (reportDir) rmSync(reportDir, { recursive: true, force: true });
});

interface FuzzRun {
  exitCode: number;
  output: string;
}

function runSchemathesis(): Promise<FuzzRun> {
  const args = [
    'run',
    `${server.baseUrl}/api/v1/openapi.json`,
    '--checks',
    'not_a_server_error',
    // Signing out would end the run's session.
    '--exclude-path',
    '/api/v1/auth/logout',
    '--max-time',
    String(FUZZ_SECONDS),
    '--request-timeout',
    '15',
    '--workers',
    '2',
    '--header',
    `Cookie: ${admin.cookie}`,
    '--header',
    `X-CSRF-Token: ${admin.csrf}`,
    '--report',
    'junit',
    '--report-dir',
    reportDir,
    '--no-color',
  ];
  return new Promise((resolve) => {
    execFile(
      SCHEMATHESIS,
      args,
      {
        // Schemathesis keeps a cache in its working directory: the report directory, not the checkout.
        cwd: reportDir,
        timeout: (FUZZ_SECONDS + 120) * 1000,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          ...process.env,
          PYTHONPATH: path.join(import.meta.dirname, 'api-fuzz'),
          SCHEMATHESIS_HOOKS: 'hooks',
          FUZZ_ADMIN_USER_ID: admin.userId,
        },
      },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ exitCode, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** `<testcase>` elements that carry a failure or error in Schemathesis' JUnit report. */
function failedOperations(): string[] {
  const files = readdirSync(reportDir).filter((f) => f.endsWith('.xml'));
  const xml = files.map((f) => readFileSync(path.join(reportDir, f), 'utf8')).join('\n');
  const failed: string[] = [];
  for (const match of xml.matchAll(/<testcase\b[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/testcase>/g)) {
    if (/<(failure|error)\b/.test(match[2]!)) failed.push(match[1]!);
  }
  return failed;
}

describe('API fuzz (Schemathesis, from /api/v1/openapi.json)', () => {
  it(
    'answers every generated request to every operation without a server error',
    async () => {
      expect(existsSync(SCHEMATHESIS), `${SCHEMATHESIS} is missing: run scripts/setup.sh --test`).toBe(true);
      const run = await runSchemathesis();
      const tail = run.output.split('\n').slice(-80).join('\n');
      console.log(
        run.output
          .split('\n')
          .filter((line) => /Selected:|Tested:|generated/.test(line))
          .join('\n'),
      );
      expect(failedOperations(), tail).toEqual([]);
      expect(run.exitCode, tail).toBe(0);

      // It really ran: every operation of the document was tested, with many generated cases.
      const selected = /Selected:\s*(\d+)\/(\d+)/.exec(run.output);
      const tested = /Tested:\s*(\d+)/.exec(run.output);
      const generated = /(\d+) generated/.exec(run.output);
      expect(selected, tail).not.toBeNull();
      expect(Number(tested?.[1]), tail).toBe(Number(selected![1]));
      expect(Number(selected![2]) - Number(selected![1]), 'only sign-out is left out').toBe(1);
      expect(Number(generated?.[1]), tail).toBeGreaterThan(1000);
    },
    (FUZZ_SECONDS + 180) * 1000,
  );
});
