import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { FUNCTIONS } from '../functions/registry';
import { isPublicAddress } from '../shared/http/outbound-guard';
import { functionForPath } from '../shared/platform/function';
import { executorLabels } from '../shared/sandbox/kubernetes/contract';
import {
  DEAD_LETTER_TOPIC,
  DELIVERIES_FUNCTION,
  DEV_MAX_SCALE,
  EXECUTOR_NAMESPACE,
  LOCAL_GATEWAY,
  manifests,
  NAMESPACE,
  POD_EVENTS_FUNCTION,
  PUBLIC_GATEWAY,
  STREAM_TIMEOUT_SECONDS,
} from './manifests';
import { renderManifests } from './render';
import {
  grantsOf,
  type Manifest,
  rbacProblems,
  referenceProblems,
  serviceProblems,
  watchedNamespaces,
} from './rules';

/** Every object kubectl would apply: all generated files but the kustomizations. */
const generated = (): Manifest[] =>
  Object.entries(manifests())
    .filter(([path]) => !path.endsWith('kustomization.yaml'))
    .flatMap(([, docs]) => docs as Manifest[]);
const ofKind = (docs: readonly Manifest[], kind: string) => docs.filter((d) => d.kind === kind);
const named = (docs: readonly Manifest[], kind: string, name: string): Manifest => {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!doc) throw new Error(`no ${kind} ${name}`);
  return doc;
};
const clone = <T>(value: T): T => structuredClone(value);
const svc = (name: string) => `integr8scode-${name}`;

/** What the cluster provides: the Secret the operator creates, the Kafka and Knative namespaces, the Gateway. */
const EXTERNAL = [
  `Secret/${NAMESPACE}/integr8scode-secrets`,
  'Namespace//kafka',
  `Namespace//${LOCAL_GATEWAY.namespace}`,
  `Service/${LOCAL_GATEWAY.namespace}/${LOCAL_GATEWAY.name}`,
  `Gateway/${PUBLIC_GATEWAY.namespace}/${PUBLIC_GATEWAY.name}`,
];

/** The whole Kubernetes API access of the product, written out independently of the generator. */
const EXPECTED_RBAC = {
  [svc('run-pod')]: {
    [EXECUTOR_NAMESPACE]: [
      '|pods|create',
      '|pods|delete',
      '|pods|get',
      '|pods|list',
      '|pods|watch',
      '|configmaps|create',
      '|configmaps|delete',
      '|configmaps|get',
    ],
  },
  [svc('monitor')]: {
    [EXECUTOR_NAMESPACE]: [
      '|pods|get',
      '|pods|list',
      '|pods|watch',
      '|pods|delete',
      '|pods/log|get',
      '|configmaps|list',
      '|configmaps|delete',
    ],
  },
};

/** The deployed stream settings are the ConfigMap's, not the code's defaults. */
function streamConfig(docs: readonly Manifest[]) {
  const data = named(docs, 'ConfigMap', 'integr8scode-config').data;
  return {
    SSE_MAX_STREAM_SECONDS: Number(data.SSE_MAX_STREAM_SECONDS),
    SSE_HEARTBEAT_SECONDS: Number(data.SSE_HEARTBEAT_SECONDS),
  };
}
const streamingNames = new Set(FUNCTIONS.filter((f) => f.streaming).map((f) => svc(f.name)));
const knativeServices = (docs: readonly Manifest[]) =>
  ofKind(docs, 'Service').filter((d) => d.apiVersion === 'serving.knative.dev/v1');
const allServiceProblems = (docs: readonly Manifest[]) =>
  knativeServices(docs).flatMap((s) =>
    serviceProblems(s, streamingNames.has(s.metadata.name), streamConfig(docs)),
  );

describe('manifests', () => {
  it('the committed files are exactly what the registry generates', () => {
    for (const [path, text] of Object.entries(renderManifests())) {
      expect(readFileSync(path, 'utf8'), `${path} is stale: run npx tsx knative/generate.ts`).toBe(text);
      expect(parseAllDocuments(text).every((d) => d.errors.length === 0)).toBe(true);
    }
  });

  it('every function has a Service and a ServiceAccount; every consumed event type has a KafkaSource', () => {
    const docs = generated();
    const names = FUNCTIONS.map((f) => svc(f.name)).sort();
    expect(
      knativeServices(docs)
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(names);
    expect(
      ofKind(docs, 'ServiceAccount')
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(names);
    const sources = ofKind(docs, 'KafkaSource');
    for (const fn of FUNCTIONS)
      for (const type of fn.triggers) {
        const reading = sources.filter(
          (s) => s.spec.topics.includes(type) && s.spec.sink.ref.name === svc(fn.name),
        );
        expect(reading, `${fn.name} consumes ${type}`).toHaveLength(1);
      }
    // And nothing is delivered to a function that does not handle it.
    for (const source of sources) {
      const fn = FUNCTIONS.find((f) => svc(f.name) === source.spec.sink.ref.name)!;
      expect(source.spec.topics).toEqual(fn.triggers);
      expect(source.spec.delivery.deadLetterSink.ref.name).toBe('integr8scode-dead-letters');
    }
    const groups = sources.map((s) => s.spec.consumerGroup);
    expect(new Set(groups).size).toBe(groups.length);
    expect(named(docs, 'KafkaSink', 'integr8scode-dead-letters').spec.topic).toBe(DEAD_LETTER_TOPIC);
  });

  it('annotation and timeout bounds hold, and the bound checks catch each violation', () => {
    const docs = generated();
    expect(allServiceProblems(docs)).toEqual([]);
    const config = streamConfig(docs);
    const stream = named(docs, 'Service', svc('stream-sse'));
    /** The problems of a copy of submit (or stream-sse) with `path` in its revision template set to `value`. */
    const broken = (path: string, value: unknown, streaming = false) => {
      const copy = clone(streaming ? stream : named(docs, 'Service', svc('submit')));
      const [section, field] = path.split(':') as [string, string];
      const target =
        section === 'annotations' ? copy.spec.template.metadata.annotations : copy.spec.template.spec;
      target[field] = value;
      return serviceProblems(copy, streaming, config).join('\n');
    };
    const scaling = (key: string) => `annotations:autoscaling.knative.dev/${key}`;
    expect(broken(scaling('min-scale'), '11')).toMatch(/min-scale 11 is above max-scale 10/);
    expect(broken(scaling('target'), '0')).toMatch(/target "0"/);
    expect(broken('spec:timeoutSeconds', 601)).toMatch(/timeoutSeconds 601 is outside/);
    expect(broken('spec:timeoutSeconds', config.SSE_MAX_STREAM_SECONDS, true)).toMatch(
      /does not exceed SSE_MAX_STREAM_SECONDS/,
    );
    expect(broken('spec:idleTimeoutSeconds', config.SSE_HEARTBEAT_SECONDS, true)).toMatch(
      /does not exceed SSE_HEARTBEAT_SECONDS/,
    );
    expect(broken('spec:containerConcurrency', 10, true)).toMatch(/containerConcurrency/);
    expect(broken(scaling('metric'), 'rps', true)).toMatch(/rps/);
  });

  it('the stream function stays up, takes any number of streams and outlives every stream', () => {
    const template = named(generated(), 'Service', svc('stream-sse')).spec.template;
    expect(template.metadata.annotations['autoscaling.knative.dev/min-scale']).toBe('1');
    expect(template.spec.containerConcurrency).toBe(0);
    expect(template.spec.timeoutSeconds).toBe(STREAM_TIMEOUT_SECONDS);
  });

  it('other functions scale to zero, are cluster-local, and every container is locked down', () => {
    for (const service of knativeServices(generated())) {
      const { annotations } = service.spec.template.metadata;
      if (!streamingNames.has(service.metadata.name))
        expect(annotations['autoscaling.knative.dev/min-scale']).toBe('0');
      expect(service.metadata.labels?.['networking.knative.dev/visibility']).toBe('cluster-local');
      const [container] = service.spec.template.spec.containers;
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
  });

  it('every sink, ServiceAccount, Role, topic, Secret and namespace referenced exists', () => {
    const docs = generated();
    expect(referenceProblems(docs, { external: EXTERNAL })).toEqual([]);
    const without = (kind: string, name: string) =>
      referenceProblems(
        docs.filter((d) => !(d.kind === kind && d.metadata.name === name)),
        { external: EXTERNAL },
      ).join('\n');
    expect(without('Service', svc('store-result'))).toMatch(
      /KafkaSource integr8scode-store-result refers to Service/,
    );
    expect(without('KafkaSink', 'integr8scode-dead-letters')).toMatch(/refers to KafkaSink/);
    expect(without('ServiceAccount', svc('monitor'))).toMatch(/ApiServerSource .* refers to ServiceAccount/);
    expect(without('Role', svc('run-pod'))).toMatch(/RoleBinding integr8scode-run-pod refers to Role/);
    expect(without('KafkaTopic', 'pod-created')).toMatch(/uses topic pod_created, which is not defined/);
    expect(without('Namespace', EXECUTOR_NAMESPACE)).toMatch(/refers to Namespace \/integr8scode-executions/);
    expect(without('ReferenceGrant', 'integr8scode-api')).toMatch(/no ReferenceGrant/);
  });

  it('RBAC grants exactly the listed verbs, with no wildcard, and tokens only where it does', () => {
    const docs = generated();
    expect(rbacProblems(docs, EXPECTED_RBAC)).toEqual([]);
    const wildcard = clone(docs);
    named(wildcard, 'Role', svc('monitor')).rules[0].verbs = ['*'];
    expect(rbacProblems(wildcard, EXPECTED_RBAC).join('\n')).toMatch(/wildcard in verbs/);
    const extra = clone(docs);
    named(extra, 'Role', svc('run-pod')).rules.push({
      apiGroups: [''],
      resources: ['secrets'],
      verbs: ['get'],
    });
    expect(rbacProblems(extra, EXPECTED_RBAC).join('\n')).toMatch(
      /integr8scode-run-pod in .* may .*\|secrets\|get/,
    );
    const token = clone(docs);
    named(token, 'ServiceAccount', svc('submit')).automountServiceAccountToken = true;
    expect(rbacProblems(token, EXPECTED_RBAC).join('\n')).toMatch(/integr8scode-submit: automount/);
  });

  it('the ApiServerSource sends executor pods to monitor, read with an identity allowed to watch them', () => {
    const docs = generated();
    const source = named(docs, 'ApiServerSource', 'integr8scode-executor-pods');
    expect(source.spec.sink.ref.name).toBe(svc(POD_EVENTS_FUNCTION));
    expect(source.spec.mode).toBe('Resource');
    expect(source.spec.resources).toMatchObject([{ apiVersion: 'v1', kind: 'Pod' }]);
    expect(watchedNamespaces(source)).toEqual([EXECUTOR_NAMESPACE]);
    const grants = grantsOf(docs, source.spec.serviceAccountName, NAMESPACE, EXECUTOR_NAMESPACE);
    for (const verb of ['get', 'list', 'watch'])
      expect(grants).toContainEqual({ apiGroup: '', resource: 'pods', verb });
    // It selects what the backend puts on every executor pod.
    expect(executorLabels('x1')).toMatchObject(source.spec.resources[0].selector.matchLabels);
    // A PingSource nudges the same function to look at every pod again (a lost pod event is made good).
    const ping = named(docs, 'PingSource', 'integr8scode-executor-pods-resync');
    expect(ping.spec.sink.ref.name).toBe(svc(POD_EVENTS_FUNCTION));
    const config = named(docs, 'ConfigMap', 'integr8scode-config').data;
    expect(config).toMatchObject({
      SANDBOX_BACKEND: 'kubernetes',
      KUBERNETES_NAMESPACE: EXECUTOR_NAMESPACE,
      MONITOR_POD_EVENTS: 'apiserversource',
    });
  });

  it('notify reaches only public addresses on 443 for deliveries, and a PingSource wakes it for due ones', () => {
    const docs = generated();
    const ping = named(docs, 'PingSource', 'integr8scode-notify-deliveries');
    expect(ping.spec.sink.ref.name).toBe(svc(DELIVERIES_FUNCTION));
    expect(FUNCTIONS.some((fn) => fn.name === DELIVERIES_FUNCTION)).toBe(true);

    const egress = named(docs, 'NetworkPolicy', 'integr8scode-notify-deliveries');
    expect(egress.spec.podSelector.matchLabels).toEqual({ 'integr8scode.io/function': DELIVERIES_FUNCTION });
    expect(egress.spec.policyTypes).toEqual(['Egress']);
    const [rule] = egress.spec.egress;
    expect(rule.ports).toEqual([{ protocol: 'TCP', port: 443 }]);
    const blocks = rule.to.map((peer: Manifest['spec']) => peer.ipBlock);
    expect(blocks.map((block: { cidr: string }) => block.cidr)).toEqual(['0.0.0.0/0', '::/0']);
    // Every range the guard refuses is excepted, and every excepted network address is one it refuses.
    const excepted = blocks.flatMap((block: { except: string[] }) => block.except);
    const privateNetworks = ['10.0.0.0', '127.0.0.0', '169.254.0.0', '172.16.0.0', '192.168.0.0', 'fc00::'];
    for (const network of privateNetworks)
      expect(
        excepted.some((cidr: string) => cidr.startsWith(`${network}/`)),
        network,
      ).toBe(true);
    for (const cidr of excepted) expect(isPublicAddress(cidr.split('/')[0]!), cidr).toBe(false);
  });

  it('the API route sends each /api/v1 prefix to the function the registry routes it to', () => {
    const route = named(generated(), 'HTTPRoute', 'integr8scode-api');
    const routed = FUNCTIONS.filter((f) => f.routes.length > 0);
    expect(route.spec.rules).toHaveLength(routed.length);
    for (const [i, fn] of routed.entries()) {
      const rule = route.spec.rules[i];
      expect(rule.matches.map((m: Manifest['spec']) => m.path)).toEqual(
        fn.routes.map((value) => ({ type: 'PathPrefix', value })),
      );
      expect(rule.filters[0].urlRewrite.hostname).toBe(`${svc(fn.name)}.${NAMESPACE}.svc.cluster.local`);
      // The Gateway picks the longest prefix, the registry the first match: they agree when no function's
      // prefix lies under another's, which resolving each prefix's subpaths checks.
      for (const prefix of fn.routes) {
        expect(functionForPath(FUNCTIONS, prefix)?.name).toBe(fn.name);
        expect(functionForPath(FUNCTIONS, `${prefix}/x`)?.name).toBe(fn.name);
        for (const other of routed.filter((o) => o !== fn))
          for (const otherPrefix of other.routes) expect(otherPrefix.startsWith(`${prefix}/`)).toBe(false);
      }
      const revisionTimeout = named(generated(), 'Service', svc(fn.name)).spec.template.spec.timeoutSeconds;
      expect(rule.timeouts.request).toBe(`${revisionTimeout}s`);
    }
  });

  it('executor pods are cut off; functions reach only DNS, Kafka, MongoDB, Redis (and the API when RBAC says so)', () => {
    const docs = generated();
    const deny = named(docs, 'NetworkPolicy', 'integr8scode-executors-deny-all');
    expect(deny.metadata.namespace).toBe(EXECUTOR_NAMESPACE);
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });

    const functions = named(docs, 'NetworkPolicy', 'integr8scode-functions');
    const [{ key, operator }] = functions.spec.podSelector.matchExpressions;
    expect(operator).toBe('Exists');
    for (const service of knativeServices(docs))
      expect(service.spec.template.metadata.labels).toHaveProperty(key);
    expect(functions.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const from = functions.spec.ingress.flatMap((r: Manifest['spec']) =>
      r.from.map((f: Manifest['spec']) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name']),
    );
    expect(from.sort()).toEqual(['knative-serving', LOCAL_GATEWAY.namespace].sort());
    const ports = functions.spec.egress.flatMap((r: Manifest['spec']) =>
      r.ports.map((p: { port: number }) => p.port),
    );
    expect([...new Set(ports)].sort()).toEqual([53, 6379, 9092, 27017].sort());
    for (const rule of functions.spec.egress) expect(rule.to?.length).toBeGreaterThan(0);

    const api = named(docs, 'NetworkPolicy', 'integr8scode-kubernetes-api');
    expect(api.spec.podSelector.matchExpressions[0].values.map(svc).sort()).toEqual(
      Object.keys(EXPECTED_RBAC).sort(),
    );
    expect(api.spec.policyTypes).toEqual(['Egress']);
  });

  it('both namespaces enforce Pod Security restricted, and every namespaced object names its namespace', () => {
    const docs = generated();
    for (const name of [NAMESPACE, EXECUTOR_NAMESPACE])
      expect(named(docs, 'Namespace', name).metadata.labels).toMatchObject({
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      });
    for (const doc of docs.filter((d) => d.kind !== 'Namespace'))
      expect(doc.metadata.namespace, `${doc.kind} ${doc.metadata.name}`).toBeTruthy();
    // A kustomize `namespace:` would move the executor namespace's objects (and rename the Namespaces).
    expect(manifests()['knative/base/kustomization.yaml']?.[0]).not.toHaveProperty('namespace');
  });
});

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
if (kubectl.error)
  console.warn('[manifests.test] kubectl not found: the dev overlay is not built (kubectl kustomize)');

describe.skipIf(Boolean(kubectl.error))('dev overlay (kubectl kustomize)', () => {
  const build = (dir: string): Manifest[] => {
    const out = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 30_000 });
    if (out.status !== 0) throw new Error(`kubectl kustomize ${dir}: ${out.stderr}`);
    return parseAllDocuments(out.stdout).map((d) => d.toJS() as Manifest);
  };
  const ids = (docs: readonly Manifest[]) =>
    docs.map((d) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`).sort();

  it('builds the base unchanged and the overlay within every rule, smaller, chattier and on dev images', () => {
    const topics = manifests()['kafka/topics.yaml'] as Manifest[];
    const base = build('knative/base');
    expect(ids([...base, ...topics])).toEqual(ids(generated()));
    const dev = build('knative/overlays/dev');
    expect(ids(dev)).toEqual(ids(base));
    expect(allServiceProblems(dev)).toEqual([]);
    expect(referenceProblems([...dev, ...topics], { external: EXTERNAL })).toEqual([]);
    expect(rbacProblems(dev, EXPECTED_RBAC)).toEqual([]);
    for (const service of knativeServices(dev)) {
      expect(service.spec.template.metadata.annotations['autoscaling.knative.dev/max-scale']).toBe(
        String(DEV_MAX_SCALE),
      );
      expect(service.spec.template.spec.containers[0].image).toMatch(/^integr8scode\/[a-z-]+:dev$/);
    }
    expect(named(dev, 'ConfigMap', 'integr8scode-config').data.LOG_LEVEL).toBe('debug');
  });
});
