/**
 * store-result's CloudEvent sink: lifecycle events in binary mode (`pod_created`, `execution_started`,
 * `execution_completed`) for executions seeded in setup(). The seeded executions have ended, so each
 * event runs the guarded transition and is acknowledged without changing the stored result.
 *   k6 run -e API_URL=https://integr8scode.example.com -e FUNCTION_URL=http://127.0.0.1:8083/ \
 *     loadtest/k6/store-result.ts
 */
import { check } from 'k6';
import { env, envelope, outputFields, pick, postCloudEvent, seedSinkExecutions, sinkOptions } from './lib.ts';

export const options = sinkOptions;
export const setup = seedSinkExecutions;

function lifecycleEvent(executionId: string): Record<string, unknown> {
  const pod = `executor-${executionId}`;
  switch (Math.floor(Math.random() * 3)) {
    case 0:
      return { ...envelope(executionId, 'pod_created', 'run-pod'), pod_name: pod, namespace: 'integr8scode' };
    case 1:
      return { ...envelope(executionId, 'execution_started', 'run-pod'), pod_name: pod, node_name: null };
    default:
      return {
        ...envelope(executionId, 'execution_completed', 'monitor'),
        exit_code: 0,
        finished_at: new Date().toISOString(),
        ...outputFields,
      };
  }
}

export default function (executions: string[]): void {
  const response = postCloudEvent(env('FUNCTION_URL'), lifecycleEvent(pick(executions)));
  check(response, { 'handled (2xx)': (r) => r.status >= 200 && r.status < 300 });
}
