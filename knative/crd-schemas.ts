/**
 * The CRD schemas the manifests are validated against, taken from the Go modules that ship them
 * (fetched with `go mod download` from the Go module proxy, never committed) and cached under
 * `${INTEGR8S_CACHE:-$HOME/.cache/integr8scode}/crds`.
 *
 * Core Kubernetes kinds (Namespace, ServiceAccount, ConfigMap, Role, RoleBinding, NetworkPolicy) have
 * no CRD and Strimzi's KafkaTopic is not a Go module: those are not covered here.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface CrdFile {
  module: string;
  version: string;
  path: string;
}

const SERVING: CrdFile = {
  module: 'knative.dev/serving',
  version: 'v0.51.0',
  path: 'config/core/300-resources/service.yaml',
};
const KAFKA = { module: 'knative.dev/eventing-kafka-broker', version: 'v0.50.1' };
const EVENTING = { module: 'knative.dev/eventing', version: 'v0.50.0' };
// v1.7 needs a newer Go toolchain than many installs have; v1.6 serves the same HTTPRoute v1.
const GATEWAY_API = { module: 'sigs.k8s.io/gateway-api', version: 'v1.6.3' };

/** Where each generated kind's schema comes from, by `apiVersion kind`. */
export const CRD_FILES: Readonly<Record<string, CrdFile>> = {
  'serving.knative.dev/v1 Service': SERVING,
  'sources.knative.dev/v1 KafkaSource': {
    ...KAFKA,
    path: 'control-plane/config/eventing-kafka-broker/100-source/100-kafka-source.yaml',
  },
  'eventing.knative.dev/v1alpha1 KafkaSink': {
    ...KAFKA,
    path: 'control-plane/config/eventing-kafka-broker/100-sink/100-kafka-sink.yaml',
  },
  'sources.knative.dev/v1 ApiServerSource': {
    ...EVENTING,
    path: 'config/core/resources/apiserversource.yaml',
  },
  'sources.knative.dev/v1 PingSource': {
    ...EVENTING,
    path: 'config/core/resources/pingsource.yaml',
  },
  'gateway.networking.k8s.io/v1 HTTPRoute': {
    ...GATEWAY_API,
    path: 'config/crd/standard/gateway.networking.k8s.io_httproutes.yaml',
  },
  'gateway.networking.k8s.io/v1beta1 ReferenceGrant': {
    ...GATEWAY_API,
    path: 'config/crd/standard/gateway.networking.k8s.io_referencegrants.yaml',
  },
};

/** Generated kinds no CRD describes: core Kubernetes kinds and Strimzi's KafkaTopic (not a Go module). */
export const NOT_COVERED: readonly string[] = [
  'v1 Namespace',
  'v1 ServiceAccount',
  'v1 ConfigMap',
  'rbac.authorization.k8s.io/v1 Role',
  'rbac.authorization.k8s.io/v1 RoleBinding',
  'networking.k8s.io/v1 NetworkPolicy',
  'kafka.strimzi.io/v1beta2 KafkaTopic',
];

export const crdCacheDir = () =>
  join(process.env.INTEGR8S_CACHE || join(homedir(), '.cache', 'integr8scode'), 'crds');

const cachedPath = (file: CrdFile) => join(crdCacheDir(), `${file.module}@${file.version}`, file.path);

/**
 * Puts every CRD file in the cache, downloading each missing module once into a scratch module cache
 * that is removed afterwards. Throws with go's own message when a download fails.
 */
export function ensureCrdFiles(files: readonly CrdFile[] = Object.values(CRD_FILES)): void {
  const missing = files.filter((file) => !existsSync(cachedPath(file)));
  const modules = [...new Set(missing.map((file) => `${file.module}@${file.version}`))];
  if (modules.length === 0) return;
  mkdirSync(crdCacheDir(), { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'integr8scode-gomod-'));
  try {
    const out = spawnSync('go', ['mod', 'download', '-json', ...modules], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, GOMODCACHE: scratch, GOFLAGS: '-modcacherw', GOTOOLCHAIN: 'local' },
    });
    // One JSON object per module, concatenated.
    const results = JSON.parse(`[${out.stdout.replace(/}\s*{/g, '},{')}]`) as Array<{
      Path: string;
      Version: string;
      Dir?: string;
      Error?: string;
    }>;
    const failed = results.filter((r) => r.Error).map((r) => r.Error);
    if (out.status !== 0 || failed.length > 0)
      throw new Error(`go mod download failed: ${failed.join('; ') || out.stderr || out.error?.message}`);
    for (const file of missing) {
      const result = results.find((r) => r.Path === file.module && r.Version === file.version);
      if (!result?.Dir) throw new Error(`go mod download returned no directory for ${file.module}`);
      mkdirSync(dirname(cachedPath(file)), { recursive: true });
      copyFileSync(join(result.Dir, file.path), cachedPath(file));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

type Schema = Record<string, unknown>;

/** The `openAPIV3Schema` of one served version of the CRD in `file`. */
export function crdSchema(file: CrdFile, apiVersion: string, kind: string): Schema {
  const [group, version] = apiVersion.split('/') as [string, string];
  for (const doc of parseAllDocuments(readFileSync(cachedPath(file), 'utf8'))) {
    const crd = doc.toJS() as {
      kind?: string;
      spec?: {
        group: string;
        names: { kind: string };
        versions: Array<{ name: string; served: boolean; schema: { openAPIV3Schema: Schema } }>;
      };
    } | null;
    const spec = crd?.kind === 'CustomResourceDefinition' ? crd.spec : undefined;
    if (spec?.group !== group || spec.names.kind !== kind) continue;
    const served = spec.versions.find((v) => v.name === version && v.served);
    if (!served) throw new Error(`${file.module}@${file.version} does not serve ${apiVersion} ${kind}`);
    return served.schema.openAPIV3Schema;
  }
  throw new Error(`${file.path} in ${file.module}@${file.version} has no CRD for ${kind}`);
}

/** The root fields every object has, whether or not its CRD lists them. */
export function withObjectFields(schema: Schema): Schema {
  const properties = (schema.properties ?? {}) as Schema;
  return {
    ...schema,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      ...properties,
    },
  };
}

/**
 * The schema with unknown fields refused wherever the API server would prune them silently (objects
 * with declared properties and no `x-kubernetes-preserve-unknown-fields`): a misspelt field fails.
 */
export function refuseUnknownFields(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(refuseUnknownFields);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    // Property names are data, not schemas: recurse into each property's schema only.
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, refuseUnknownFields(v)]))
        : refuseUnknownFields(value);
  }
  if (
    out.properties &&
    out['x-kubernetes-preserve-unknown-fields'] !== true &&
    !('additionalProperties' in out)
  )
    out.additionalProperties = false;
  return out;
}
