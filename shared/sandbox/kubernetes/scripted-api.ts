/**
 * For tests: a stand-in API server that lists and watches the pods of one namespace as the test says,
 * for what a real one will not do on demand: expire a watch's resource version (410 Gone), or keep a
 * list unanswered. Watches only stay open; nothing is sent on them but the expiry.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';

export const SCRIPTED_NAMESPACE = 'executors';

export const scriptedPod = (name: string, uid = `uid-${name}`): V1Pod => ({
  metadata: { name, namespace: SCRIPTED_NAMESPACE, uid, resourceVersion: uid },
});

export interface ScriptedApi {
  config: KubeConfig;
  /** What the next list returns. */
  pods: V1Pod[];
  /** Lists are left unanswered until the returned function is called. */
  holdLists(): () => void;
  /** Ends every open watch with 410 Gone, as when its resource version has been compacted away. */
  expire(): void;
  /** Watches asked for so far. */
  watches(): number;
  openWatches(): number;
  close(): Promise<void>;
}

export async function scriptedPodApi(pods: V1Pod[]): Promise<ScriptedApi> {
  const open = new Set<ServerResponse>();
  let watches = 0;
  let held: Promise<void> = Promise.resolve();
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://api');
    if (url.searchParams.get('watch') !== 'true') {
      void held.then(() => {
        response.setHeader('Content-Type', 'application/json');
        const list = {
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: '1' },
          items: api.pods,
        };
        response.end(JSON.stringify(list));
      });
      return;
    }
    watches++;
    open.add(response);
    response.on('close', () => open.delete(response));
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.flushHeaders(); // as the API server does: the client's watch is open from here
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: 'api',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true, // the client refuses plain HTTP otherwise
      },
    ],
    users: [{ name: 'test' }],
    contexts: [{ name: 'test', cluster: 'api', user: 'test' }],
    currentContext: 'test',
  });
  const api: ScriptedApi = {
    config,
    pods,
    holdLists() {
      let release = () => {};
      held = new Promise((resolve) => {
        release = resolve;
      });
      return release;
    },
    expire() {
      const gone = { kind: 'Status', apiVersion: 'v1', code: 410, message: 'too old resource version' };
      for (const response of open) response.end(`${JSON.stringify({ type: 'ERROR', object: gone })}\n`);
    },
    watches: () => watches,
    openWatches: () => open.size,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
