/** Drives the local servers of scripts/services/services.sh from tests that disrupt them on purpose. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/services/services.sh');

export type ServiceName = 'redis' | 'kafka' | 'postgres' | 'ferretdb' | 'kube';

/** Runs `services.sh <command> <service>` and resolves once it is done (a start waits for readiness). */
export async function services(
  command: 'start' | 'stop' | 'restart' | 'kill' | 'status',
  service: ServiceName,
  timeoutMs = 120_000,
): Promise<string> {
  const { stdout, stderr } = await run('bash', [SCRIPT, command, service], { timeout: timeoutMs });
  return `${stdout}${stderr}`.trim();
}

/** True when `services.sh status <service>` reports it running. */
export async function serviceRunning(service: ServiceName): Promise<boolean> {
  try {
    await services('status', service, 15_000);
    return true;
  } catch {
    return false;
  }
}
