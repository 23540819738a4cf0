/**
 * submit: POST /api/v1/execute as one signed-in user, in two scenarios one after the other:
 * - `capacity`: 50 virtual users send as fast as they are answered for 20 s; target ≥ 300 requests/s
 *   (a count of at least 300 × the duration, since k6's request rate spans the whole run);
 * - `steady`: 300 requests/s arriving evenly for 20 s from at most 50 virtual users; target p99 ≤ 50 ms.
 * No request may fail. The deployment must run with RATE_LIMIT_ENABLED=false (60 submissions a minute
 * per user otherwise), and runs every script submitted.
 *   k6 run -e API_URL=https://integr8scode.example.com loadtest/k6/submit.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';
import { apiUrl, authHeaders, env, type Session, signIn } from './lib.ts';

const VUS = Number(env('VUS', '50'));
const SECONDS = Number(env('SECONDS', '20'));
const RATE = Number(env('RATE', '300'));

export const options: Options = {
  scenarios: {
    capacity: { executor: 'constant-vus', vus: VUS, duration: `${SECONDS}s` },
    steady: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: `${SECONDS}s`,
      preAllocatedVUs: VUS,
      maxVUs: VUS,
      startTime: `${SECONDS + 5}s`,
    },
  },
  thresholds: {
    'http_reqs{scenario:capacity}': [`count>=${300 * SECONDS}`],
    'http_req_duration{scenario:steady}': ['p(99)<50'],
    // Arrivals the VUs could not start on time: the rate was not really offered.
    dropped_iterations: ['count==0'],
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
