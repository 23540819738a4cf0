/**
 * notify's CloudEvent sink: terminal execution events in binary mode (`execution_completed`,
 * `execution_failed`) for executions seeded in setup(). Each new event adds one in-app notification for
 * the seeded user and pushes it to that user's open notification streams.
 *   k6 run -e API_URL=https://integr8scode.example.com -e FUNCTION_URL=http://127.0.0.1:8084/ \
 *     loadtest/k6/notify.ts
 */
import { check } from 'k6';
import { env, envelope, outputFields, pick, postCloudEvent, seedSinkExecutions, sinkOptions } from './lib.ts';

export const options = sinkOptions;
export const setup = seedSinkExecutions;

export default function (executions: string[]): void {
  const executionId = pick(executions);
  const event =
    Math.random() < 0.5
      ? { ...envelope(executionId, 'execution_completed', 'monitor'), exit_code: 0, ...outputFields }
      : {
          ...envelope(executionId, 'execution_failed', 'monitor'),
          exit_code: 3,
          error_type: 'script_error',
          error_message: 'Script exited with code 3',
          ...outputFields,
        };
  const response = postCloudEvent(env('FUNCTION_URL'), event);
  check(response, { 'handled (2xx)': (r) => r.status >= 200 && r.status < 300 });
}
