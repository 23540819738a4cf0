/** The Kubernetes API client of the backend: how it connects, how errors read, which ones are retried. */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

export interface KubeClient {
  config: KubeConfig;
  core: CoreV1Api;
  server: string;
}

/** From a kubeconfig file, or the pod's own service account (in a cluster) when none is given. */
export function connect(kubeconfig?: string): KubeClient {
  const config = new KubeConfig();
  if (kubeconfig) config.loadFromFile(kubeconfig);
  else config.loadFromCluster();
  const server = config.getCurrentCluster()?.server;
  if (!server) throw new Error(`no cluster in ${kubeconfig ?? 'the in-cluster configuration'}`);
  return { config, core: config.makeApiClient(CoreV1Api), server };
}

/** HTTP status of an API error, or undefined for a network failure. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's own words (a Status object's message), else the error's message. */
export function describeApiError(error: unknown): string {
  const status = statusOf(error);
  if (status === undefined) return (error as Error)?.message ?? String(error);
  let body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // A plain-text body is the message.
    }
  }
  const message =
    typeof body === 'object' && body !== null && 'message' in body
      ? String((body as { message: unknown }).message)
      : typeof body === 'string' && body
        ? body
        : 'no message';
  return `${status} ${message}`;
}

/** Worth another try: the server was unreachable, overloaded or briefly failing. */
export function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  return status === undefined || status === 429 || status >= 500;
}

/**
 * Calls `fn`, retrying transient failures after each delay in turn; each attempt is given up after
 * `timeoutMs` (the client has no request timeout of its own).
 */
export async function withRetries<T>(
  fn: () => Promise<T>,
  delaysMs: readonly number[],
  timeoutMs: number,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await withTimeout(fn(), timeoutMs);
    } catch (error) {
      if (attempt >= delaysMs.length || !isTransient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delaysMs[attempt]));
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the Kubernetes API within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
