/**
 * submit: POST /api/v1/execute at full speed from 50 virtual users for 20 s, as one signed-in user.
 * Targets: ≥ 300 requests/s, p99 ≤ 50 ms, no failures. The deployment must run with
 * RATE_LIMIT_ENABLED=false (60 submissions a minute per user otherwise), and runs every script submitted.
 *   k6 run -e API_URL=https://integr8scode.example.com loadtest/k6/submit.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';
import { apiUrl, authHeaders, env, type Session, signIn } from './lib.ts';

export const options: Options = {
  scenarios: {
    submit: {
      executor: 'constant-vus',
      vus: Number(env('VUS', '50')),
      duration: env('DURATION', '20s'),
    },
  },
  thresholds: {
    http_reqs: ['rate>=300'],
    'http_req_duration{scenario:submit}': ['p(50)<25', 'p(99)<50'],
    http_req_failed: ['rate==0'],
    checks: ['rate==1'],
  },
};

export function setup(): Session {
  return signIn();
}

export default function (session: Session): void {
  const response = http.post(
    `${apiUrl()}/api/v1/execute`,
    JSON.stringify({ script: 'print("hello")', lang: 'python' }),
    { headers: authHeaders(session), tags: { name: 'execute' } },
  );
  check(response, {
    'accepted (200)': (r) => r.status === 200,
    'queued with an id': (r) =>
      r.status === 200 && r.json('status') === 'queued' && Boolean(r.json('execution_id')),
  });
}
