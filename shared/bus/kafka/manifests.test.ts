import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../../functions/registry';
import { toBinaryRequest } from '../../events/cloudevents';
import { podCreated } from '../../events/sample-events';
import { DEFAULT_DELIVERY } from '../port';
import { isoDurationMs, sourcesFromManifests } from './manifests';

function manifestFile(yaml: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kafka-sources-')), 'kafka-sources.yaml');
  writeFileSync(path, yaml);
  return path;
}

describe('sourcesFromManifests', () => {
  it('builds one source per function with triggers, from the generated manifests', () => {
    const sources = sourcesFromManifests(undefined, (service) => `http://127.0.0.1:9999/${service}`);

    const withTriggers = FUNCTIONS.filter((fn) => fn.triggers.length > 0);
    expect(sources.map((source) => source.name).sort()).toEqual(withTriggers.map((fn) => fn.name).sort());
    for (const fn of withTriggers) {
      const source = sources.find((candidate) => candidate.name === fn.name)!;
      expect(source).toMatchObject({
        consumerGroup: `integr8scode-${fn.name}`,
        topics: [...fn.triggers],
        delivery: DEFAULT_DELIVERY,
        url: `http://127.0.0.1:9999/integr8scode-${fn.name}`,
      });
    }
  });

  it('reads Knative defaults, sink URIs and durations; refuses what it cannot honour', () => {
    const path = manifestFile(`
apiVersion: v1
kind: ConfigMap
metadata: { name: ignored }
---
apiVersion: sources.knative.dev/v1
kind: KafkaSource
metadata: { name: audit }
spec:
  topics: [user_logged_in]
  sink: { uri: http://127.0.0.1:1/audit }
---
apiVersion: sources.knative.dev/v1
kind: KafkaSource
metadata: { name: integr8scode-slow }
spec:
  consumerGroup: slow
  topics: [pod_created]
  delivery: { retry: 3, backoffPolicy: linear, backoffDelay: PT1M0.5S }
  sink: { ref: { name: integr8scode-slow } }
`);
    const [audit, slow] = sourcesFromManifests(path, (service) => `http://local/${service}`);
    expect(audit).toMatchObject({
      name: 'audit',
      consumerGroup: 'knative-kafka-source-audit',
      url: 'http://127.0.0.1:1/audit',
      delivery: { retry: 10, backoffPolicy: 'exponential', backoffDelayMs: 300, timeoutMs: 600_000 },
    });
    expect(slow).toMatchObject({
      name: 'slow',
      consumerGroup: 'slow',
      url: 'http://local/integr8scode-slow',
      delivery: { retry: 3, backoffPolicy: 'linear', backoffDelayMs: 60_500, timeoutMs: 600_000 },
    });

    const unordered = manifestFile(
      'kind: KafkaSource\nmetadata: { name: x }\nspec: { topics: [a], ordering: unordered, sink: { uri: http://a/ } }\n',
    );
    expect(() => sourcesFromManifests(unordered, String)).toThrow(/ordering "unordered"/);
    const noTopics = manifestFile(
      'kind: KafkaSource\nmetadata: { name: x }\nspec: { sink: { uri: http://a/ } }\n',
    );
    expect(() => sourcesFromManifests(noTopics, String)).toThrow(/no topics/);
  });

  it('parses ISO-8601 durations and rejects malformed ones', () => {
    expect(isoDurationMs('PT0.2S')).toBe(200);
    expect(isoDurationMs('PT30S')).toBe(30_000);
    expect(isoDurationMs('PT1M30S')).toBe(90_000);
    expect(isoDurationMs('P1DT2H')).toBe(93_600_000);
    for (const bad of ['P', 'PT', '30S', 'PT-1S', 'PT1X'])
      expect(() => isoDurationMs(bad)).toThrow(/ISO-8601/);
  });

  describe('delivery over HTTP', () => {
    const received: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push({ method: request.method!, url: request.url!, headers: request.headers, body });
        response.writeHead(202).end();
      });
    });
    let base = '';

    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("POSTs the CloudEvent to the sink service's URL", async () => {
      const [source] = sourcesFromManifests(undefined, (service) => `${base}/${service}/`);
      const event = podCreated();

      const response = await source!.deliver(toBinaryRequest(event, source!.url!));

      expect(response.status).toBe(202);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({
        method: 'POST',
        url: `/integr8scode-${source!.name}/`,
        headers: { 'ce-id': event.event_id, 'ce-type': 'pod_created', 'content-type': 'application/json' },
      });
      expect(JSON.parse(received[0]!.body)).toEqual(event);
    });
  });
});
