/**
 * What monitor does to executor objects through the Kubernetes API, in the executor namespace: read a pod's
 * log, delete pods and ConfigMaps, list both for the sweeper. An interface, so monitor's logic is tested
 * with a fake and proven with the real API server.
 */
import { Agent } from 'node:https';
import {
  ApiException,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  type RequestContext,
  ServerConfiguration,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import { EXECUTOR_SELECTOR, SCRIPT_CONTAINER } from './contract';

export interface ExecutorCluster {
  readonly namespace: string;
  /** The script container's whole log. */
  readLog(podName: string): Promise<string>;
  /** Deletes exactly this pod (by uid); one already gone is fine. */
  deletePod(podName: string, uid: string): Promise<void>;
  /** Every executor pod, as the API returns them. */
  listPods(): Promise<unknown[]>;
  listConfigMaps(): Promise<V1ObjectMeta[]>;
  deleteConfigMap(name: string, uid: string): Promise<void>;
}

/** The runner caps each stream; this only guards against a log that is not the runner's. */
const MAX_LOG_BYTES = 16 * 1024 * 1024;

/** From a kubeconfig file, else the pod's own service account (in a cluster). */
export function loadKubeConfig(file?: string): KubeConfig {
  const config = new KubeConfig();
  if (file) config.loadFromFile(file);
  else config.loadFromCluster();
  return config;
}

/** The client has no request timeout of its own; an API server that does not answer must not stall monitor. */
const CALL_TIMEOUT_MS = 10_000;

export function kubernetesExecutorCluster(kubeConfig: KubeConfig, namespace: string): ExecutorCluster {
  const core = reusingConnections(kubeConfig);
  return {
    namespace,
    readLog: (name) =>
      timed(
        core.readNamespacedPodLog({
          name,
          namespace,
          container: SCRIPT_CONTAINER,
          limitBytes: MAX_LOG_BYTES,
        }),
      ),
    deletePod: (name, uid) =>
      goneIsFine(timed(core.deleteNamespacedPod({ name, namespace, body: { preconditions: { uid } } }))),
    async listPods() {
      return (await timed(core.listNamespacedPod({ namespace, labelSelector: EXECUTOR_SELECTOR }))).items;
    },
    async listConfigMaps() {
      const list = await timed(core.listNamespacedConfigMap({ namespace, labelSelector: EXECUTOR_SELECTOR }));
      return list.items.map((item) => item.metadata ?? {});
    },
    deleteConfigMap: (name, uid) =>
      goneIsFine(
        timed(core.deleteNamespacedConfigMap({ name, namespace, body: { preconditions: { uid } } })),
      ),
  };
}

/**
 * The core API client of `kubeConfig` over kept-alive connections. The client makes a new agent, and so a
 * new TLS connection, for every call: a handshake that costs more than the log read it precedes. The
 * credentials are still applied to every request (a token read from a file stays current); only the TLS
 * settings of the first request are kept, and the KubeConfig never changes them.
 */
function reusingConnections(kubeConfig: KubeConfig): CoreV1Api {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig names no cluster');
  let shared: Agent | undefined;
  const auth = {
    getName: () => 'kubeconfig, connections kept alive',
    async applySecurityAuthentication(context: RequestContext) {
      await kubeConfig.applySecurityAuthentication(context);
      const fresh = context.getAgent();
      if (!(fresh instanceof Agent)) return; // a proxy agent: left as the client made it
      shared ??= new Agent({ ...fresh.options, keepAlive: true, maxSockets: 32 });
      context.setAgent(shared);
    },
  };
  return new CoreV1Api(
    createConfiguration({ baseServer: new ServerConfiguration(server, {}), authMethods: { default: auth } }),
  );
}

function timed<T>(call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer from the Kubernetes API within ${CALL_TIMEOUT_MS} ms`)),
      CALL_TIMEOUT_MS,
    );
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

/** 404: already gone; 409: the uid precondition failed, so the object we meant is gone too. */
async function goneIsFine(deletion: Promise<unknown>): Promise<void> {
  try {
    await deletion;
  } catch (error) {
    if (error instanceof ApiException && (error.code === 404 || error.code === 409)) return;
    throw error;
  }
}

/** The API's own message of a failed call, for logs and errors. */
export function apiErrorMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body = typeof error.body === 'string' ? safeJson(error.body) : error.body;
    const message = (body as { message?: string } | null)?.message;
    return `HTTP ${error.code}${message ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}
