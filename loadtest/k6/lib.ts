/**
 * What the per-function load scripts share: configuration from `-e NAME=value`, signing in, submitting,
 * and valid domain events sent as binary-mode CloudEvents (the way KafkaSource delivers them).
 */
import { sleep } from 'k6';
import { randomBytes } from 'k6/crypto';
import http from 'k6/http';
import type { Options } from 'k6/options';

/** `-e NAME=value` or the environment, else `fallback`. */
export function env(name: string, fallback?: string): string {
  const value = __ENV[name] ?? fallback;
  if (value === undefined) throw new Error(`set ${name} (k6 run -e ${name}=...)`);
  return value;
}

/** The public API's base URL, e.g. https://integr8scode.example.com. */
export const apiUrl = (): string => env('API_URL').replace(/\/$/, '');

export interface Session {
  /** `Cookie` header value with the session and CSRF cookies. */
  cookie: string;
  csrf: string;
}

/**
 * Signs in with USERNAME/PASSWORD, or registers a fresh user when they are unset (the deployment must
 * allow registration then).
 */
export function signIn(): Session {
  const base = apiUrl();
  let username = __ENV.USERNAME;
  let password = __ENV.PASSWORD;
  if (!username || !password) {
    username = `k6_${uuid().slice(0, 12).replace(/-/g, '')}`;
    password = `pw-${uuid()}`;
    const registered = http.post(
      `${base}/api/v1/auth/register`,
      JSON.stringify({ username, email: `${username}@example.com`, password }),
      { headers: { 'Content-Type': 'application/json' } },
    );
    if (registered.status !== 200)
      throw new Error(`register answered ${registered.status}: ${registered.body}`);
  }
  const response = http.post(`${base}/api/v1/auth/login`, { username, password });
  if (response.status !== 200) throw new Error(`login answered ${response.status}: ${response.body}`);
  const cookies = ['access_token', 'csrf_token'].map(
    (name) => `${name}=${response.cookies[name]?.[0]?.value ?? ''}`,
  );
  return { cookie: cookies.join('; '), csrf: String(response.json('csrf_token')) };
}

/** Headers that authenticate a request, with the CSRF token state-changing requests need. */
export const authHeaders = (session: Session): Record<string, string> => ({
  Cookie: session.cookie,
  'X-CSRF-Token': session.csrf,
  'Content-Type': 'application/json',
});

/** Submits a script and returns its execution id. */
export function submit(session: Session, script: string): string {
  const response = http.post(`${apiUrl()}/api/v1/execute`, JSON.stringify({ script, lang: 'python' }), {
    headers: authHeaders(session),
    tags: { name: 'submit' },
  });
  if (response.status !== 200) throw new Error(`submit answered ${response.status}: ${response.body}`);
  return String(response.json('execution_id'));
}

/**
 * Executions the event scripts refer to: their handlers look the execution up, and an event for one that
 * does not exist is rejected (422, dead-lettered). They run through the deployment once, as usual.
 */
export function seedExecutions(count: number): string[] {
  const session = signIn();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(submit(session, 'print("k6 load test")'));
  return ids;
}

/** A random (version 4) UUID. */
export function uuid(): string {
  const bytes = new Uint8Array(randomBytes(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** The fields every event carries; `service` is who would have emitted it. */
export function envelope(executionId: string, eventType: string, service: string): Record<string, unknown> {
  return {
    event_id: uuid(),
    event_type: eventType,
    event_version: '1.0',
    timestamp: new Date().toISOString(),
    aggregate_id: executionId,
    execution_id: executionId,
    metadata: { service_name: service, service_version: 'k6' },
  };
}

const usage = {
  execution_time_wall_seconds: 0.02,
  cpu_time_jiffies: 2,
  clk_tck_hertz: 100,
  peak_memory_kb: 9000,
  cpu_time_seconds: 0.02,
};

/** What a sandbox reports for a script that printed one line and exited 0. */
export const outputFields = {
  stdout: 'k6 load test\n',
  stderr: '',
  stdout_truncated: false,
  stderr_truncated: false,
  stdout_bytes: 13,
  stderr_bytes: 0,
  resource_usage: usage,
};

/**
 * POSTs `event` to a function's CloudEvent sink in binary mode: the attributes as `ce-*` headers, the
 * event as the JSON body. The answer is 2xx when handled, 4xx when it can never be (dead letter).
 */
export function postCloudEvent(url: string, event: Record<string, unknown>) {
  const metadata = event.metadata as { service_name: string };
  return http.post(url, JSON.stringify(event), {
    headers: {
      'ce-specversion': '1.0',
      'ce-id': String(event.event_id),
      'ce-type': String(event.event_type),
      'ce-source': `/integr8scode/${metadata.service_name}`,
      'ce-subject': String(event.aggregate_id),
      'ce-time': String(event.timestamp),
      'ce-partitionkey': String(event.aggregate_id),
      'content-type': 'application/json',
    },
    tags: { name: String(event.event_type) },
  });
}

/**
 * Options every CloudEvent sink script shares: VUS virtual users posting events for DURATION, each
 * event handled (2xx) and p99 under 50 ms.
 */
export const sinkOptions: Options = {
  scenarios: {
    events: { executor: 'constant-vus', vus: Number(env('VUS', '20')), duration: env('DURATION', '30s') },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    'http_req_duration{scenario:events}': ['p(99)<50'],
  },
};

/**
 * setup() of the sink scripts: the sinks reject events for executions they cannot find, so real ones are
 * submitted first (EXECUTIONS of them) and given SEED_WAIT_SECONDS to run.
 */
export function seedSinkExecutions(): string[] {
  const ids = seedExecutions(Number(env('EXECUTIONS', '10')));
  sleep(Number(env('SEED_WAIT_SECONDS', '15')));
  return ids;
}
