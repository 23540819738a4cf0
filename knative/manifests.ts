/**
 * The Knative and Kafka manifests, derived from the function registry: the two namespaces (functions and
 * executor pods) under Pod Security `restricted`; a ServiceAccount and a Knative Service per function; a
 * KafkaSource per function with triggers (its topics are exactly the event types it handles); the
 * ApiServerSource feeding monitor with executor pod events; least-privilege RBAC in the executor
 * namespace; NetworkPolicies; the HTTPRoute mapping /api/v1 prefixes to functions; a KafkaTopic per
 * event type and one for dead letters; the dev overlay. `npx tsx knative/generate.ts` writes them; a
 * test fails when the files and this source disagree.
 */
import { stringify } from 'yaml';
import { FUNCTIONS } from '../functions/registry';
import { DEFAULT_DELIVERY } from '../shared/bus/port';
import { loadConfig } from '../shared/config/config';
import { EVENT_TYPES } from '../shared/events/schemas';
import { NON_PUBLIC_V4, NON_PUBLIC_V6 } from '../shared/http/outbound-guard';
import type { FunctionDefinition } from '../shared/platform/function';
import {
  COMPONENT_LABEL,
  EXECUTOR_COMPONENT,
  PART_OF_LABEL,
  PART_OF as PART_OF_VALUE,
} from '../shared/sandbox/kubernetes/contract';

export const NAMESPACE = 'integr8scode';
/** Where run-pod starts executor pods; nothing else runs there. */
export const EXECUTOR_NAMESPACE = 'integr8scode-executions';
export const DEAD_LETTER_TOPIC = 'integr8scode.dead-letters';
const BOOTSTRAP = 'integr8scode-kafka-bootstrap.kafka:9092';
const PART_OF = { 'app.kubernetes.io/part-of': 'integr8scode' };
/** On every function's pods (the revision template's labels): what the NetworkPolicies select. */
export const FUNCTION_LABEL = 'integr8scode.io/function';
/**
 * Labels every executor pod carries (the backend's contract); the ApiServerSource forwards events of pods
 * that have them.
 */
export const EXECUTOR_POD_LABELS = { [PART_OF_LABEL]: PART_OF_VALUE, [COMPONENT_LABEL]: EXECUTOR_COMPONENT };

/** Streams close at SSE_MAX_STREAM_SECONDS; the revision's request timeout must lie above it. */
export const STREAM_TIMEOUT_SECONDS = 600;
const REQUEST_TIMEOUT_SECONDS = 300;

export interface PolicyRule {
  apiGroups: readonly string[];
  resources: readonly string[];
  verbs: readonly string[];
}

/**
 * The Kubernetes API access of each function, all of it in the executor namespace, and exactly the calls
 * its code makes. run-pod creates a script's pod, then its ConfigMap (reading either back when a retried
 * create meets its own object), watches the pods to free a run's slot when its pod ends, and deletes both
 * on cancel or compensation. monitor follows the pods (its watch, or the ApiServerSource under its
 * identity, which needs get, list and watch), reads the log of an ended pod, deletes finished pods, and
 * sweeps: lists ConfigMaps to find ones no pod owns any more, and deletes them. No function may update,
 * patch, exec into or attach to a pod, or read a Secret. Functions not listed get no Role and no API token.
 */
export const EXECUTOR_RBAC: Readonly<Record<string, readonly PolicyRule[]>> = {
  'run-pod': [
    { apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete', 'get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'delete', 'get'] },
  ],
  monitor: [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
    { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'delete'] },
  ],
};

/** The function that receives executor pod events from the ApiServerSource, under its own identity. */
export const POD_EVENTS_FUNCTION = 'monitor';

/**
 * Where the Knative networking layer answers cluster-local hosts. Kourier's internal gateway; with
 * Istio it is `knative-local-gateway` in `istio-system`, with Contour `envoy` in `contour-internal`.
 */
export const LOCAL_GATEWAY = { namespace: 'kourier-system', name: 'kourier-internal', port: 80 };
/** The public Gateway API Gateway (created by the cluster operator) the API route attaches to. */
export const PUBLIC_GATEWAY = { namespace: NAMESPACE, name: 'integr8scode' };
/** The activator and autoscaler run here; they call and scrape the functions' pods. */
const KNATIVE_SERVING_NAMESPACE = 'knative-serving';

interface Port {
  protocol: 'TCP' | 'UDP';
  port: number;
}
/** What functions may connect to: a namespace, the pods in it, the ports. */
export interface Backend {
  name: string;
  namespace: string;
  pods: Record<string, string>;
  ports: readonly Port[];
}
const tcp = (port: number): Port => ({ protocol: 'TCP', port });
/** The data services live in their own namespace; patch these peers if yours live elsewhere. */
export const DATA_NAMESPACE = 'integr8scode-data';
export const BACKENDS: readonly Backend[] = [
  {
    name: 'dns',
    namespace: 'kube-system',
    pods: { 'k8s-app': 'kube-dns' },
    ports: [{ protocol: 'UDP', port: 53 }, tcp(53)],
  },
  { name: 'kafka', namespace: 'kafka', pods: { 'strimzi.io/cluster': 'integr8scode' }, ports: [tcp(9092)] },
  {
    name: 'mongodb',
    namespace: DATA_NAMESPACE,
    pods: { 'app.kubernetes.io/name': 'mongodb' },
    ports: [tcp(27017)],
  },
  {
    name: 'redis',
    namespace: DATA_NAMESPACE,
    pods: { 'app.kubernetes.io/name': 'redis' },
    ports: [tcp(6379)],
  },
];
/** The API server's address is the cluster's own; functions with RBAC may reach these ports anywhere. */
const KUBERNETES_API_PORTS = [tcp(443), tcp(6443)];
/** The function that sends webhook and Slack deliveries to users' endpoints on the internet. */
export const DELIVERIES_FUNCTION = 'notify';
/**
 * Where deliveries may go: public addresses on 443 only, every private, loopback, link-local and
 * reserved range excepted (the ranges notify's own guard refuses), so the address check holds even if
 * the code were bypassed. An operator who allow-lists an internal receiver (NOTIFY_ALLOWED_HOSTS) adds
 * an egress rule for it.
 */
const cidrs = (ranges: readonly [string, number][]) =>
  ranges.map(([network, prefix]) => `${network}/${prefix}`);
export const DELIVERY_EGRESS = {
  to: [
    { ipBlock: { cidr: '0.0.0.0/0', except: cidrs(NON_PUBLIC_V4) } },
    { ipBlock: { cidr: '::/0', except: cidrs(NON_PUBLIC_V6) } },
  ],
  ports: [tcp(443)],
};

export const serviceName = (fn: Pick<FunctionDefinition, 'name'>) => `integr8scode-${fn.name}`;
const isoSeconds = (ms: number) => `PT${ms / 1000}S`;
const namespaceIs = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });
const requestTimeout = (fn: FunctionDefinition) =>
  fn.streaming === true ? STREAM_TIMEOUT_SECONDS : REQUEST_TIMEOUT_SECONDS;

/** Pod Security `restricted` enforced, audited and warned about. */
export const namespace = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name,
    labels: {
      ...PART_OF,
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    },
  },
});

export function knativeService(fn: FunctionDefinition) {
  const streaming = fn.streaming === true;
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: {
      name: serviceName(fn),
      namespace: NAMESPACE,
      // Reached through the cluster-local gateway only: the API route and event sources address it there.
      labels: { ...PART_OF, [FUNCTION_LABEL]: fn.name, 'networking.knative.dev/visibility': 'cluster-local' },
    },
    spec: {
      template: {
        metadata: {
          labels: { ...PART_OF, [FUNCTION_LABEL]: fn.name },
          annotations: {
            'autoscaling.knative.dev/min-scale': streaming ? '1' : '0',
            'autoscaling.knative.dev/max-scale': '10',
            // Open streams count as in-flight requests: scale on concurrency, never on rps.
            'autoscaling.knative.dev/metric': 'concurrency',
            'autoscaling.knative.dev/target': streaming ? '1000' : '50',
          },
        },
        spec: {
          serviceAccountName: serviceName(fn),
          containerConcurrency: streaming ? 0 : 100,
          timeoutSeconds: requestTimeout(fn),
          ...(streaming ? { idleTimeoutSeconds: STREAM_TIMEOUT_SECONDS } : {}),
          enableServiceLinks: false,
          containers: [
            {
              name: 'function',
              image: `integr8scode/${fn.name}`,
              ports: [{ containerPort: 8080 }],
              env: [{ name: 'HOST', value: '0.0.0.0' }],
              envFrom: [
                { configMapRef: { name: 'integr8scode-config' } },
                { secretRef: { name: 'integr8scode-secrets' } },
              ],
              readinessProbe: { httpGet: { path: '/health/readiness' } },
              livenessProbe: { httpGet: { path: '/health/liveness' } },
              securityContext: {
                runAsNonRoot: true,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
            },
          ],
        },
      },
    },
  };
}

export function kafkaSource(fn: FunctionDefinition) {
  return {
    apiVersion: 'sources.knative.dev/v1',
    kind: 'KafkaSource',
    metadata: { name: serviceName(fn), namespace: NAMESPACE, labels: PART_OF },
    spec: {
      consumerGroup: serviceName(fn),
      bootstrapServers: [BOOTSTRAP],
      topics: [...fn.triggers],
      initialOffset: 'earliest',
      // Records are keyed by execution id: ordered delivery keeps one execution's events in order.
      ordering: 'ordered',
      delivery: {
        retry: DEFAULT_DELIVERY.retry,
        backoffPolicy: DEFAULT_DELIVERY.backoffPolicy,
        backoffDelay: isoSeconds(DEFAULT_DELIVERY.backoffDelayMs),
        timeout: isoSeconds(DEFAULT_DELIVERY.timeoutMs),
        deadLetterSink: {
          ref: {
            apiVersion: 'eventing.knative.dev/v1alpha1',
            kind: 'KafkaSink',
            name: 'integr8scode-dead-letters',
          },
        },
      },
      sink: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: serviceName(fn) } },
    },
  };
}

/** Each function runs as its own identity; only functions with RBAC get an API token. */
export const serviceAccount = (fn: FunctionDefinition) => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: serviceName(fn), namespace: NAMESPACE, labels: PART_OF },
  automountServiceAccountToken: fn.name in EXECUTOR_RBAC,
});

/** A Role in the executor namespace and its binding to the function's ServiceAccount. */
export function executorRole(name: string, rules: readonly PolicyRule[]) {
  const metadata = { name: serviceName({ name }), namespace: EXECUTOR_NAMESPACE, labels: PART_OF };
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: metadata.name },
      subjects: [{ kind: 'ServiceAccount', name: serviceName({ name }), namespace: NAMESPACE }],
    },
  ];
}

/**
 * Executor pods talk to nothing and nothing talks to them. Functions take traffic only from Knative's
 * activator and gateway and reach only DNS, Kafka, MongoDB and Redis; functions with RBAC also the API
 * server.
 */
export function networkPolicies() {
  const policy = (name: string, ns: string, spec: Record<string, unknown>) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns, labels: PART_OF },
    spec,
  });
  return [
    policy('integr8scode-executors-deny-all', EXECUTOR_NAMESPACE, {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    }),
    policy('integr8scode-functions', NAMESPACE, {
      podSelector: { matchExpressions: [{ key: FUNCTION_LABEL, operator: 'Exists' }] },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [KNATIVE_SERVING_NAMESPACE, LOCAL_GATEWAY.namespace].map((ns) => ({
            namespaceSelector: namespaceIs(ns),
          })),
        },
      ],
      egress: BACKENDS.map((backend) => ({
        to: [
          { namespaceSelector: namespaceIs(backend.namespace), podSelector: { matchLabels: backend.pods } },
        ],
        ports: backend.ports,
      })),
    }),
    policy('integr8scode-notify-deliveries', NAMESPACE, {
      podSelector: { matchLabels: { [FUNCTION_LABEL]: DELIVERIES_FUNCTION } },
      policyTypes: ['Egress'],
      egress: [DELIVERY_EGRESS],
    }),
    policy('integr8scode-kubernetes-api', NAMESPACE, {
      podSelector: {
        matchExpressions: [{ key: FUNCTION_LABEL, operator: 'In', values: Object.keys(EXECUTOR_RBAC) }],
      },
      policyTypes: ['Egress'],
      egress: [{ ports: KUBERNETES_API_PORTS }],
    }),
  ];
}

/**
 * Executor pod lifecycle events (the whole Pod object) go to the pod-events function, read with that
 * function's ServiceAccount, which must be able to get, list and watch pods there.
 */
export const podEventSource = () => ({
  apiVersion: 'sources.knative.dev/v1',
  kind: 'ApiServerSource',
  metadata: { name: 'integr8scode-executor-pods', namespace: NAMESPACE, labels: PART_OF },
  spec: {
    mode: 'Resource',
    serviceAccountName: serviceName({ name: POD_EVENTS_FUNCTION }),
    namespaceSelector: namespaceIs(EXECUTOR_NAMESPACE),
    resources: [{ apiVersion: 'v1', kind: 'Pod', selector: { matchLabels: EXECUTOR_POD_LABELS } }],
    sink: {
      ref: {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        name: serviceName({ name: POD_EVENTS_FUNCTION }),
      },
    },
  },
});

/**
 * A nudge to the pod-events function every few minutes: it looks at every executor pod again and sweeps
 * the ones past their deadline. The ApiServerSource sends each pod change once and drops it if the sink
 * fails, so an ended pod whose event was lost would otherwise never be reported (nor deleted). Five minutes
 * keeps the function scaled to zero most of the time.
 */
export const POD_RESYNC_SCHEDULE = '*/5 * * * *';
export const podResyncSource = () => ({
  apiVersion: 'sources.knative.dev/v1',
  kind: 'PingSource',
  metadata: { name: 'integr8scode-executor-pods-resync', namespace: NAMESPACE, labels: PART_OF },
  spec: {
    schedule: POD_RESYNC_SCHEDULE,
    contentType: 'application/json',
    data: '{"resync":"executor-pods"}',
    sink: {
      ref: {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        name: serviceName({ name: POD_EVENTS_FUNCTION }),
      },
    },
  },
});

/**
 * A nudge to notify every five minutes: it sends the webhook and Slack deliveries that fell due (a
 * retry's backoff, the end of quiet hours, the throttle) while it was scaled to zero. While a pod runs,
 * its own timer sends them on time; the ping only bounds how late one can be after a scale-down.
 */
export const DELIVERY_SCHEDULE = '*/5 * * * *';
export const deliveryPingSource = () => ({
  apiVersion: 'sources.knative.dev/v1',
  kind: 'PingSource',
  metadata: { name: 'integr8scode-notify-deliveries', namespace: NAMESPACE, labels: PART_OF },
  spec: {
    schedule: DELIVERY_SCHEDULE,
    contentType: 'application/json',
    data: '{"deliveries":"due"}',
    sink: {
      ref: {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        name: serviceName({ name: DELIVERIES_FUNCTION }),
      },
    },
  },
});

/**
 * The public API: each function's `/api/v1` prefixes on the public Gateway, forwarded to the Knative
 * gateway with the function's cluster-local host. PathPrefix matches at segment boundaries, as the
 * registry's own routing does.
 */
export function apiRoute(functions: readonly FunctionDefinition[]) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'integr8scode-api', namespace: NAMESPACE, labels: PART_OF },
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', ...PUBLIC_GATEWAY }],
      rules: functions
        .filter((fn) => fn.routes.length > 0)
        .map((fn) => ({
          matches: fn.routes.map((prefix) => ({ path: { type: 'PathPrefix', value: prefix } })),
          filters: [
            {
              type: 'URLRewrite',
              urlRewrite: { hostname: `${serviceName(fn)}.${NAMESPACE}.svc.cluster.local` },
            },
          ],
          backendRefs: [{ group: '', kind: 'Service', ...LOCAL_GATEWAY }],
          // The Gateway must not end a request (an SSE stream) before the revision's own timeout does.
          timeouts: { request: `${requestTimeout(fn)}s` },
        })),
    },
  };
}

/** Lets the API route, from the functions' namespace, forward to the Knative gateway's Service. */
export const localGatewayGrant = () => ({
  apiVersion: 'gateway.networking.k8s.io/v1beta1',
  kind: 'ReferenceGrant',
  metadata: { name: 'integr8scode-api', namespace: LOCAL_GATEWAY.namespace, labels: PART_OF },
  spec: {
    from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: NAMESPACE }],
    to: [{ group: '', kind: 'Service', name: LOCAL_GATEWAY.name }],
  },
});

export const deadLetterSink = () => ({
  apiVersion: 'eventing.knative.dev/v1alpha1',
  kind: 'KafkaSink',
  metadata: { name: 'integr8scode-dead-letters', namespace: NAMESPACE, labels: PART_OF },
  spec: { topic: DEAD_LETTER_TOPIC, bootstrapServers: [BOOTSTRAP], contentMode: 'binary' },
});

/** One topic per event type, as the reference system has; records up to 8 MiB carry capped output. */
export function kafkaTopic(name: string, retentionDays: number) {
  return {
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaTopic',
    metadata: {
      name: name.replaceAll('_', '-').replaceAll('.', '-'),
      namespace: 'kafka',
      labels: { 'strimzi.io/cluster': 'integr8scode' },
    },
    spec: {
      topicName: name,
      partitions: 6,
      replicas: 3,
      config: {
        'retention.ms': String(retentionDays * 24 * 60 * 60 * 1000),
        'max.message.bytes': String(8 * 1024 * 1024),
        'min.insync.replicas': '2',
      },
    },
  };
}

/** Configuration every function reads; secrets go to the Secret, not here. */
export function configMap() {
  const defaults = loadConfig({});
  const data: Record<string, string> = {};
  for (const key of [
    'EXECUTION_TIMEOUT_SECONDS',
    'MAX_CONCURRENT_EXECUTIONS',
    'SSE_HEARTBEAT_SECONDS',
    'SSE_MAX_STREAM_SECONDS',
  ] as const) {
    data[key] = String(defaults[key]);
  }
  data.PLATFORM = 'stack';
  // Scripts run in executor pods; monitor hears of them from the ApiServerSource, not a watch of its own.
  data.SANDBOX_BACKEND = 'kubernetes';
  data.KUBERNETES_NAMESPACE = EXECUTOR_NAMESPACE;
  data.MONITOR_POD_EVENTS = 'apiserversource';
  data.CPU_LIMIT = defaults.CPU_LIMIT;
  data.MEMORY_LIMIT = '128Mi';
  data.LOG_LEVEL = 'info';
  // Requests reach a function through its queue-proxy (loopback), the activator and the ingress (pods):
  // set the block to your cluster's pod CIDR, so rate limits see the client rather than the ingress.
  data.TRUSTED_PROXIES = '127.0.0.1,::1,10.0.0.0/8';
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'integr8scode-config', namespace: NAMESPACE, labels: PART_OF },
    data,
  };
}

/** Development: at most two pods per function, debug logs, images tagged `dev`. */
export const DEV_MAX_SCALE = 2;

const kustomization = (body: Record<string, unknown>) => ({
  apiVersion: 'kustomize.config.k8s.io/v1beta1',
  kind: 'Kustomization',
  ...body,
});
const jsonPatch = (ops: unknown[]) => stringify(ops, { lineWidth: 0 });

function devOverlay() {
  return kustomization({
    resources: ['../../base'],
    images: FUNCTIONS.map((fn) => ({ name: `integr8scode/${fn.name}`, newTag: 'dev' })),
    patches: [
      {
        target: { group: 'serving.knative.dev', version: 'v1', kind: 'Service' },
        patch: jsonPatch([
          {
            op: 'replace',
            path: '/spec/template/metadata/annotations/autoscaling.knative.dev~1max-scale',
            value: String(DEV_MAX_SCALE),
          },
        ]),
      },
      {
        target: { version: 'v1', kind: 'ConfigMap', name: 'integr8scode-config' },
        patch: jsonPatch([{ op: 'replace', path: '/data/LOG_LEVEL', value: 'debug' }]),
      },
    ],
  });
}

/** Every file under knative/ and kafka/, by path, as objects. */
export function manifests(): Record<string, unknown[]> {
  const triggered = FUNCTIONS.filter((fn) => fn.triggers.length > 0);
  const base: Record<string, unknown[]> = {
    'knative/base/namespaces.yaml': [namespace(NAMESPACE), namespace(EXECUTOR_NAMESPACE)],
    'knative/base/config.yaml': [configMap()],
    'knative/base/services.yaml': [...FUNCTIONS.map(serviceAccount), ...FUNCTIONS.map(knativeService)],
    'knative/base/rbac.yaml': Object.entries(EXECUTOR_RBAC).flatMap(([name, rules]) =>
      executorRole(name, rules),
    ),
    'knative/base/network-policies.yaml': networkPolicies(),
    'knative/base/kafka-sources.yaml': [...triggered.map(kafkaSource), deadLetterSink()],
    'knative/base/pod-events.yaml': [podEventSource(), podResyncSource()],
    'knative/base/deliveries.yaml': [deliveryPingSource()],
    'knative/base/routes.yaml': [apiRoute(FUNCTIONS), localGatewayGrant()],
  };
  return {
    ...base,
    // Every object names its namespace; a kustomize `namespace:` would move the executor namespace's too.
    'knative/base/kustomization.yaml': [
      kustomization({ resources: Object.keys(base).map((path) => path.replace('knative/base/', '')) }),
    ],
    'knative/overlays/dev/kustomization.yaml': [devOverlay()],
    'kafka/topics.yaml': [
      ...EVENT_TYPES.filter((type) => type !== 'execution_output').map((type) => kafkaTopic(type, 7)),
      kafkaTopic(DEAD_LETTER_TOPIC, 30),
    ],
  };
}
