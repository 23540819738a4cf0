/**
 * monitor's CloudEvent sink: `pod_terminated` events (a script that exited 0) in binary mode. Each is a
 * new event, so monitor publishes an `execution_completed` for it; store-result keeps the first result
 * of an execution and ignores the rest, notify adds a notification for the seeded user each time.
 *   k6 run -e API_URL=https://integr8scode.example.com -e FUNCTION_URL=http://127.0.0.1:8082/ \
 *     loadtest/k6/monitor.ts
 */
import { check } from 'k6';
import { env, envelope, outputFields, pick, postCloudEvent, seedSinkExecutions, sinkOptions } from './lib.ts';

export const options = sinkOptions;
export const setup = seedSinkExecutions;

export default function (executions: string[]): void {
  const executionId = pick(executions);
  const finished = new Date();
  const response = postCloudEvent(env('FUNCTION_URL'), {
    ...envelope(executionId, 'pod_terminated', 'run-pod'),
    pod_name: `executor-${executionId}`,
    exit_code: 0,
    signal: null,
    reason: 'exited',
    message: null,
    timeout_seconds: 30,
    started_at: new Date(finished.getTime() - 20).toISOString(),
    finished_at: finished.toISOString(),
    ...outputFields,
  });
  check(response, { 'handled (2xx)': (r) => r.status >= 200 && r.status < 300 });
}
