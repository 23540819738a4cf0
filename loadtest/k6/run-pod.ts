/**
 * run-pod's CloudEvent sink: `execution_requested` events in binary mode, as KafkaSource delivers them.
 * The events name executions seeded in setup() (run-pod looks each up and rejects unknown ones); once an
 * execution has left `queued`, a further request for it is acknowledged without starting a sandbox, so
 * this measures the sink and admission path, not sandboxes.
 *   k6 run -e API_URL=https://integr8scode.example.com -e FUNCTION_URL=http://127.0.0.1:8081/ \
 *     loadtest/k6/run-pod.ts
 */
import { check } from 'k6';
import { env, envelope, pick, postCloudEvent, seedSinkExecutions, sinkOptions } from './lib.ts';

export const options = sinkOptions;
export const setup = seedSinkExecutions;

export default function (executions: string[]): void {
  const executionId = pick(executions);
  const response = postCloudEvent(env('FUNCTION_URL'), {
    ...envelope(executionId, 'execution_requested', 'submit'),
    script: 'print("k6 load test")',
    stdin: '',
    language: 'python',
    language_version: env('PYTHON_VERSION', '3'),
    timeout_seconds: 30,
    cpu_limit: '1000m',
    memory_limit: '128Mi',
    cpu_request: '200m',
    memory_request: '128Mi',
    priority: 'normal',
  });
  check(response, { 'handled (2xx)': (r) => r.status >= 200 && r.status < 300 });
}
