/**
 * Stack mode reads the same KafkaSource manifests a cluster applies, so topics, consumer groups and
 * delivery settings cannot differ between the two. Each source POSTs to its sink Service's local URL.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { NAMESPACE } from '../../../knative/manifests';
import type { DeliveryPolicy } from '../port';
import type { KafkaSourceDefinition } from './dispatcher';

interface KafkaSourceManifest {
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    consumerGroup?: string;
    topics?: string[];
    ordering?: string;
    delivery?: { retry?: number; backoffPolicy?: string; backoffDelay?: string; timeout?: string };
    sink?: { ref?: { name?: string }; uri?: string };
  };
}

/** Knative's defaults when a KafkaSource has no `delivery` (reconciler/source/source.go). */
const KNATIVE_DEFAULT_DELIVERY: DeliveryPolicy = {
  retry: 10,
  backoffPolicy: 'exponential',
  backoffDelayMs: 300,
  timeoutMs: 600_000,
};

/**
 * Sources from a multi-document KafkaSource YAML. `urlFor` maps the sink Service name (e.g.
 * `integr8scode-run-pod`) to where that function listens; the subscriber name in dead letters is the
 * function name, as in the embedded bus.
 */
export function sourcesFromManifests(
  path = 'knative/base/kafka-sources.yaml',
  urlFor: (serviceName: string) => string,
): KafkaSourceDefinition[] {
  const sources: KafkaSourceDefinition[] = [];
  for (const document of parseAllDocuments(readFileSync(path, 'utf8'))) {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]!.message}`);
    const manifest = document.toJS() as KafkaSourceManifest | null;
    if (manifest?.kind !== 'KafkaSource') continue;
    sources.push(toSource(manifest, path, urlFor));
  }
  return sources;
}

function toSource(
  manifest: KafkaSourceManifest,
  path: string,
  urlFor: (serviceName: string) => string,
): KafkaSourceDefinition {
  const name = manifest.metadata?.name;
  const spec = manifest.spec;
  const where = `${path}: KafkaSource ${name ?? '(unnamed)'}`;
  if (!name || !spec) throw new Error(`${where} has no metadata.name or spec`);
  if (!spec.topics?.length) throw new Error(`${where} has no topics`);
  if (spec.ordering && spec.ordering !== 'ordered') {
    throw new Error(`${where}: ordering "${spec.ordering}" is not supported here; only "ordered"`);
  }
  const sinkName = spec.sink?.ref?.name;
  const url = spec.sink?.uri ?? (sinkName ? urlFor(sinkName) : undefined);
  if (!url) throw new Error(`${where} has neither sink.ref.name nor sink.uri`);
  return {
    name: name.startsWith(`${NAMESPACE}-`) ? name.slice(NAMESPACE.length + 1) : name,
    // Knative names the group knative-kafka-source-<uid> when none is set; a fixed name keeps offsets.
    consumerGroup: spec.consumerGroup ?? `knative-kafka-source-${name}`,
    topics: spec.topics,
    delivery: deliveryPolicy(spec.delivery, where),
    url,
    deliver: (request) => fetch(request),
  };
}

/** When `delivery` is given, Knative fills in nothing: a missing backoff delay means immediate retries. */
function deliveryPolicy(
  delivery: NonNullable<KafkaSourceManifest['spec']>['delivery'],
  where: string,
): DeliveryPolicy {
  if (!delivery) return KNATIVE_DEFAULT_DELIVERY;
  const backoffPolicy = delivery.backoffPolicy ?? 'exponential';
  if (backoffPolicy !== 'exponential' && backoffPolicy !== 'linear') {
    throw new Error(`${where}: unknown backoffPolicy "${backoffPolicy}"`);
  }
  return {
    retry: delivery.retry ?? 0,
    backoffPolicy,
    backoffDelayMs: delivery.backoffDelay ? isoDurationMs(delivery.backoffDelay, where) : 0,
    timeoutMs: delivery.timeout ? isoDurationMs(delivery.timeout, where) : KNATIVE_DEFAULT_DELIVERY.timeoutMs,
  };
}

/** ISO-8601 durations as KafkaSource writes them: `PT0.2S`, `PT30S`, `PT1M30S`, `P1DT2H`. */
export function isoDurationMs(value: string, where = 'duration'): number {
  const match =
    /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      value,
    );
  if (!match || value === 'P' || value.endsWith('T'))
    throw new Error(`${where}: bad ISO-8601 duration "${value}"`);
  const [, days, hours, minutes, seconds] = match.map((part) => Number(part ?? 0));
  return Math.round((((days! * 24 + hours!) * 60 + minutes!) * 60 + seconds!) * 1000);
}
