/**
 * The Knative and Kafka manifests, derived from the function registry: a Service per function, a
 * KafkaSource per function with triggers (its topics are exactly the event types it handles), a
 * KafkaTopic per event type and one for dead letters. `npx tsx knative/generate.ts` writes them;
 * a test fails when the files and this source disagree.
 */
import { FUNCTIONS } from '../functions/registry';
import { DEFAULT_DELIVERY } from '../shared/bus/port';
import { loadConfig } from '../shared/config/config';
import { EVENT_TYPES } from '../shared/events/schemas';
import type { FunctionDefinition } from '../shared/platform/function';

export const NAMESPACE = 'integr8scode';
export const DEAD_LETTER_TOPIC = 'integr8scode.dead-letters';
const BOOTSTRAP = 'integr8scode-kafka-bootstrap.kafka:9092';
const PART_OF = { 'app.kubernetes.io/part-of': 'integr8scode' };

/** Streams close at SSE_MAX_STREAM_SECONDS; the revision's request timeout must lie above it. */
export const STREAM_TIMEOUT_SECONDS = 600;
const REQUEST_TIMEOUT_SECONDS = 300;

const serviceName = (fn: FunctionDefinition) => `integr8scode-${fn.name}`;
const isoSeconds = (ms: number) => `PT${ms / 1000}S`;

export function knativeService(fn: FunctionDefinition) {
  const streaming = fn.streaming === true;
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: {
      name: serviceName(fn),
      namespace: NAMESPACE,
      labels: { ...PART_OF, 'integr8scode.io/function': fn.name },
    },
    spec: {
      template: {
        metadata: {
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
          timeoutSeconds: streaming ? STREAM_TIMEOUT_SECONDS : REQUEST_TIMEOUT_SECONDS,
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

/** Each function runs as its own identity; none needs an API token unless its RBAC says so. */
export const serviceAccount = (fn: FunctionDefinition) => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: serviceName(fn), namespace: NAMESPACE, labels: PART_OF },
  automountServiceAccountToken: false,
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
  data.CPU_LIMIT = defaults.CPU_LIMIT;
  data.MEMORY_LIMIT = '128Mi';
  data.LOG_LEVEL = 'info';
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'integr8scode-config', namespace: NAMESPACE, labels: PART_OF },
    data,
  };
}

/** Every file under knative/base and kafka/, by path, as objects. */
export function manifests(): Record<string, unknown[]> {
  const triggered = FUNCTIONS.filter((fn) => fn.triggers.length > 0);
  return {
    'knative/base/services.yaml': [...FUNCTIONS.map(serviceAccount), ...FUNCTIONS.map(knativeService)],
    'knative/base/kafka-sources.yaml': [...triggered.map(kafkaSource), deadLetterSink()],
    'knative/base/config.yaml': [configMap()],
    'kafka/topics.yaml': [
      ...EVENT_TYPES.filter((type) => type !== 'execution_output').map((type) => kafkaTopic(type, 7)),
      kafkaTopic(DEAD_LETTER_TOPIC, 30),
    ],
  };
}
