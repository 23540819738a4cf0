/**
 * The project's own rules for the manifests, beyond what the CRD schemas say: the Knative webhook's
 * annotation bounds plus the timeouts the SSE design depends on, references that must resolve, and RBAC
 * that grants nothing beyond a fixed list. Each check returns readable problems; none means valid.
 */

/** A manifest as parsed from YAML: only the fields each rule reads are typed. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: free-form bodies; each rule names the fields it reads.
  [field: string]: any;
}

/** Knative's cluster default `max-revision-timeout-seconds`. */
export const MAX_REVISION_TIMEOUT_SECONDS = 600;
/** Knative's `container-concurrency-max-limit` default. */
const MAX_CONTAINER_CONCURRENCY = 1000;

const integer = (value: unknown): number | undefined => {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
};

export interface StreamConfig {
  SSE_MAX_STREAM_SECONDS: number;
  SSE_HEARTBEAT_SECONDS: number;
}

/** Bounds on one Knative Service; `streaming` marks the long-lived SSE function. */
export function serviceProblems(service: Manifest, streaming: boolean, config: StreamConfig): string[] {
  const name = service.metadata.name;
  const problems: string[] = [];
  const fail = (message: string) => problems.push(`${name}: ${message}`);
  const annotations: Record<string, string> = service.spec?.template?.metadata?.annotations ?? {};
  const spec = service.spec?.template?.spec ?? {};
  const annotation = (key: string) => annotations[`autoscaling.knative.dev/${key}`];

  const min = integer(annotation('min-scale') ?? '0');
  const max = integer(annotation('max-scale') ?? '0');
  if (min === undefined || min < 0) fail(`min-scale "${annotation('min-scale')}" is not a whole number ≥ 0`);
  if (max === undefined || max < 0) fail(`max-scale "${annotation('max-scale')}" is not a whole number ≥ 0`);
  // max-scale 0 means unbounded.
  if (min !== undefined && max !== undefined && max > 0 && min > max)
    fail(`min-scale ${min} is above max-scale ${max}`);
  const target = annotation('target');
  if (target !== undefined && !(Number(target) > 0)) fail(`target "${target}" is not above 0`);
  const metric = annotation('metric') ?? 'concurrency';
  if (!['concurrency', 'rps'].includes(metric)) fail(`metric "${metric}" is not one the KPA knows`);

  const timeout = spec.timeoutSeconds ?? 300;
  if (integer(timeout) === undefined || timeout <= 0 || timeout > MAX_REVISION_TIMEOUT_SECONDS)
    fail(`timeoutSeconds ${timeout} is outside 1..${MAX_REVISION_TIMEOUT_SECONDS}`);
  for (const field of ['responseStartTimeoutSeconds', 'idleTimeoutSeconds'] as const) {
    if (spec[field] !== undefined && spec[field] > timeout)
      fail(`${field} ${spec[field]} lies above timeoutSeconds ${timeout} and would never fire`);
  }
  const concurrency = spec.containerConcurrency ?? 0;
  if (integer(concurrency) === undefined || concurrency < 0 || concurrency > MAX_CONTAINER_CONCURRENCY)
    fail(`containerConcurrency ${concurrency} is outside 0..${MAX_CONTAINER_CONCURRENCY}`);

  if (streaming) {
    // Streams must end themselves (clients resume with Last-Event-ID) before the revision cuts them.
    if (!(timeout > config.SSE_MAX_STREAM_SECONDS))
      fail(
        `timeoutSeconds ${timeout} does not exceed SSE_MAX_STREAM_SECONDS ${config.SSE_MAX_STREAM_SECONDS}`,
      );
    // 0 or unset is no idle limit; any other must let a heartbeat through first.
    const idle = spec.idleTimeoutSeconds ?? 0;
    if (idle !== 0 && !(idle > config.SSE_HEARTBEAT_SECONDS))
      fail(
        `idleTimeoutSeconds ${idle} does not exceed SSE_HEARTBEAT_SECONDS ${config.SSE_HEARTBEAT_SECONDS}`,
      );
    if (concurrency !== 0)
      fail('a streaming service must not cap containerConcurrency (queued streams wait)');
    if (metric !== 'concurrency')
      fail('a streaming service must scale on concurrency (rps ignores open streams)');
    if ((min ?? 0) < 1) fail('a streaming service keeps one instance (min-scale ≥ 1)');
  }
  return problems;
}

const key = (kind: string, namespace: string | undefined, name: string) =>
  `${kind}/${namespace ?? ''}/${name}`;

export interface ReferenceOptions {
  /** Objects the cluster provides, as `Kind/namespace/name` (namespace empty for cluster-wide ones). */
  external: readonly string[];
}

/** Every name one object uses for another resolves to an object in `docs` or to a declared external one. */
export function referenceProblems(docs: readonly Manifest[], options: ReferenceOptions): string[] {
  const known = new Set([
    ...docs.map((d) => key(d.kind, d.metadata.namespace, d.metadata.name)),
    ...options.external,
  ]);
  const topics = new Set(docs.filter((d) => d.kind === 'KafkaTopic').map((d) => d.spec.topicName as string));
  const problems: string[] = [];
  const need = (from: Manifest, kind: string, namespace: string | undefined, name: string) => {
    if (!known.has(key(kind, namespace, name)))
      problems.push(
        `${from.kind} ${from.metadata.name} refers to ${kind} ${namespace ?? ''}/${name}, which is not defined`,
      );
  };
  const needRef = (from: Manifest, ref: { kind: string; name: string; namespace?: string } | undefined) => {
    if (!ref) problems.push(`${from.kind} ${from.metadata.name} has a sink without a ref`);
    else need(from, ref.kind, ref.namespace ?? from.metadata.namespace, ref.name);
  };
  const needTopic = (from: Manifest, topic: string) => {
    if (!topics.has(topic))
      problems.push(`${from.kind} ${from.metadata.name} uses topic ${topic}, which is not defined`);
  };

  for (const doc of docs) {
    const ns = doc.metadata.namespace;
    if (ns !== undefined) need(doc, 'Namespace', undefined, ns);
    switch (doc.kind) {
      case 'Service': {
        if (!doc.apiVersion.startsWith('serving.knative.dev/')) break;
        const spec = doc.spec.template.spec;
        need(doc, 'ServiceAccount', ns, spec.serviceAccountName ?? 'default');
        for (const container of spec.containers ?? [])
          for (const from of container.envFrom ?? []) {
            if (from.configMapRef) need(doc, 'ConfigMap', ns, from.configMapRef.name);
            if (from.secretRef) need(doc, 'Secret', ns, from.secretRef.name);
          }
        break;
      }
      case 'KafkaSource':
        needRef(doc, doc.spec.sink?.ref);
        if (doc.spec.delivery?.deadLetterSink) needRef(doc, doc.spec.delivery.deadLetterSink.ref);
        for (const topic of doc.spec.topics ?? []) needTopic(doc, topic);
        break;
      case 'KafkaSink':
        needTopic(doc, doc.spec.topic);
        break;
      case 'PingSource':
        needRef(doc, doc.spec.sink?.ref);
        break;
      case 'ApiServerSource':
        needRef(doc, doc.spec.sink?.ref);
        need(doc, 'ServiceAccount', ns, doc.spec.serviceAccountName ?? 'default');
        for (const watched of watchedNamespaces(doc)) need(doc, 'Namespace', undefined, watched);
        break;
      case 'RoleBinding':
        need(doc, doc.roleRef.kind, doc.roleRef.kind === 'Role' ? ns : undefined, doc.roleRef.name);
        for (const subject of doc.subjects ?? [])
          if (subject.kind === 'ServiceAccount')
            need(doc, 'ServiceAccount', subject.namespace ?? ns, subject.name);
        break;
      case 'HTTPRoute':
        for (const parent of doc.spec.parentRefs ?? [])
          need(doc, parent.kind ?? 'Gateway', parent.namespace ?? ns, parent.name);
        for (const rule of doc.spec.rules ?? []) {
          for (const filter of rule.filters ?? []) {
            const host: string | undefined = filter.urlRewrite?.hostname;
            const local = host?.match(/^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/);
            if (host && !local)
              problems.push(`HTTPRoute ${doc.metadata.name} rewrites to ${host}, not a cluster-local host`);
            if (local?.[1] && local[2]) need(doc, 'Service', local[2], local[1]);
          }
          for (const backend of rule.backendRefs ?? []) {
            const backendNs = backend.namespace ?? ns;
            need(doc, backend.kind ?? 'Service', backendNs, backend.name);
            if (backendNs !== ns && !granted(docs, doc, backendNs, backend.kind ?? 'Service', backend.name))
              problems.push(
                `HTTPRoute ${doc.metadata.name} may not use ${backendNs}/${backend.name}: no ReferenceGrant`,
              );
          }
        }
        break;
    }
  }
  return problems;
}

/** Namespaces an ApiServerSource watches: its own, or those its selector names. */
export function watchedNamespaces(source: Manifest): string[] {
  const selector = source.spec.namespaceSelector;
  if (!selector) return [source.metadata.namespace ?? 'default'];
  const name = selector.matchLabels?.['kubernetes.io/metadata.name'];
  if (typeof name !== 'string' || Object.keys(selector.matchLabels).length !== 1 || selector.matchExpressions)
    throw new Error(`ApiServerSource ${source.metadata.name}: only a single-namespace selector is checked`);
  return [name];
}

function granted(docs: readonly Manifest[], route: Manifest, namespace: string, kind: string, name: string) {
  return docs.some(
    (d) =>
      d.kind === 'ReferenceGrant' &&
      d.metadata.namespace === namespace &&
      d.spec.from.some(
        (f: Record<string, string>) => f.kind === route.kind && f.namespace === route.metadata.namespace,
      ) &&
      d.spec.to.some(
        (t: Record<string, string>) => t.kind === kind && (t.name === undefined || t.name === name),
      ),
  );
}

export interface Grant {
  apiGroup: string;
  resource: string;
  verb: string;
}
const grantKey = (g: Grant) => `${g.apiGroup}|${g.resource}|${g.verb}`;

/** Everything a ServiceAccount may do in a namespace through RoleBindings there. */
export function grantsOf(
  docs: readonly Manifest[],
  serviceAccount: string,
  saNamespace: string,
  namespace: string,
) {
  const grants: Grant[] = [];
  for (const binding of docs) {
    if (binding.kind !== 'RoleBinding' || binding.metadata.namespace !== namespace) continue;
    const bound = (binding.subjects ?? []).some(
      (s: Record<string, string>) =>
        s.kind === 'ServiceAccount' &&
        s.name === serviceAccount &&
        (s.namespace ?? namespace) === saNamespace,
    );
    if (!bound) continue;
    const role = docs.find(
      (d) =>
        d.kind === binding.roleRef.kind &&
        d.metadata.name === binding.roleRef.name &&
        d.metadata.namespace === namespace,
    );
    for (const rule of role?.rules ?? [])
      for (const apiGroup of rule.apiGroups ?? [])
        for (const resource of rule.resources ?? [])
          for (const verb of rule.verbs ?? []) grants.push({ apiGroup, resource, verb });
  }
  return grants;
}

/**
 * RBAC grants exactly `expected` (`serviceAccount` → namespace → "group|resource|verb" list): no
 * wildcard, no cluster-wide role, no binding to anything else, tokens mounted only where RBAC exists.
 */
export function rbacProblems(
  docs: readonly Manifest[],
  expected: Record<string, Record<string, readonly string[]>>,
): string[] {
  const problems: string[] = [];
  for (const doc of docs) {
    if (doc.kind === 'ClusterRole' || doc.kind === 'ClusterRoleBinding')
      problems.push(`${doc.kind} ${doc.metadata.name}: no cluster-wide RBAC`);
    for (const rule of doc.kind === 'Role' ? doc.rules : [])
      for (const field of ['apiGroups', 'resources', 'verbs'])
        if ((rule[field] ?? []).some((v: string) => v.includes('*')))
          problems.push(`Role ${doc.metadata.name}: wildcard in ${field}`);
  }
  const namespaces = new Set(docs.filter((d) => d.kind === 'Namespace').map((d) => d.metadata.name));
  for (const account of docs.filter((d) => d.kind === 'ServiceAccount')) {
    const { name, namespace } = account.metadata;
    const want = expected[name] ?? {};
    for (const ns of namespaces) {
      const actual = grantsOf(docs, name, namespace ?? '', ns)
        .map(grantKey)
        .sort();
      const wanted = [...(want[ns] ?? [])].sort();
      if (JSON.stringify(actual) !== JSON.stringify(wanted))
        problems.push(
          `${name} in ${ns} may ${actual.join(', ') || 'nothing'}; expected ${wanted.join(', ') || 'nothing'}`,
        );
    }
    const needsToken = Object.keys(want).length > 0;
    if ((account.automountServiceAccountToken ?? true) !== needsToken)
      problems.push(`${name}: automountServiceAccountToken should be ${needsToken}`);
  }
  for (const binding of docs.filter((d) => d.kind === 'RoleBinding'))
    for (const subject of binding.subjects ?? [])
      if (subject.kind !== 'ServiceAccount' || !(subject.name in expected))
        problems.push(`RoleBinding ${binding.metadata.name} binds ${subject.kind} ${subject.name}`);
  return problems;
}
