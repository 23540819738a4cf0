import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { FUNCTIONS } from '../functions/registry';
import { loadConfig } from '../shared/config/config';
import { DEAD_LETTER_TOPIC, manifests, STREAM_TIMEOUT_SECONDS } from './manifests';
import { renderManifests } from './render';

interface Doc {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: free-form manifest bodies; each assertion names the fields it reads.
  spec: Record<string, any>;
}
const docs = (path: string): Doc[] => manifests()[path] as Doc[];

describe('manifests', () => {
  it('the committed files are exactly what the registry generates', () => {
    for (const [path, text] of Object.entries(renderManifests())) {
      expect(readFileSync(path, 'utf8'), `${path} is stale: run npx tsx knative/generate.ts`).toBe(text);
      expect(parseAllDocuments(text).every((d) => d.errors.length === 0)).toBe(true);
    }
  });

  it('every function has a Service, and every event type a function handles has a KafkaSource topic', () => {
    const services = docs('knative/base/services.yaml').filter((d) => d.kind === 'Service');
    expect(services.map((s) => s.metadata.name).sort()).toEqual(
      FUNCTIONS.map((f) => `integr8scode-${f.name}`).sort(),
    );
    const sources = docs('knative/base/kafka-sources.yaml').filter((d) => d.kind === 'KafkaSource');
    for (const fn of FUNCTIONS.filter((f) => f.triggers.length > 0)) {
      const source = sources.find((s) => s.metadata.name === `integr8scode-${fn.name}`);
      expect(source?.spec.topics).toEqual(fn.triggers);
      expect(source?.spec.sink.ref.name).toBe(`integr8scode-${fn.name}`);
      expect(source?.spec.delivery.deadLetterSink.ref.name).toBe('integr8scode-dead-letters');
    }
  });

  it('every topic a KafkaSource reads or the dead-letter sink writes is defined', () => {
    const topics = new Set(docs('kafka/topics.yaml').map((t) => t.spec.topicName));
    const read = docs('knative/base/kafka-sources.yaml').flatMap((d) =>
      d.kind === 'KafkaSource' ? d.spec.topics : [d.spec.topic],
    );
    for (const topic of read) expect(topics, topic).toContain(topic);
    expect(topics).toContain(DEAD_LETTER_TOPIC);
  });

  it('the stream function stays up, takes any number of streams and outlives every stream', () => {
    const stream = docs('knative/base/services.yaml').find(
      (d) => d.kind === 'Service' && d.metadata.name === 'integr8scode-stream-sse',
    )!;
    const template = stream.spec.template;
    expect(template.metadata.annotations['autoscaling.knative.dev/min-scale']).toBe('1');
    expect(template.metadata.annotations['autoscaling.knative.dev/metric']).toBe('concurrency');
    expect(template.spec.containerConcurrency).toBe(0);
    expect(template.spec.timeoutSeconds).toBeLessThanOrEqual(600);
    const config = loadConfig({});
    expect(config.SSE_MAX_STREAM_SECONDS).toBeLessThan(STREAM_TIMEOUT_SECONDS);
    expect(template.spec.idleTimeoutSeconds).toBeGreaterThan(config.SSE_HEARTBEAT_SECONDS);
  });

  it('other functions scale to zero and every container is locked down', () => {
    for (const service of docs('knative/base/services.yaml').filter((d) => d.kind === 'Service')) {
      const { annotations } = service.spec.template.metadata;
      if (service.metadata.name !== 'integr8scode-stream-sse')
        expect(annotations['autoscaling.knative.dev/min-scale']).toBe('0');
      const [container] = service.spec.template.spec.containers;
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
    }
  });
});
