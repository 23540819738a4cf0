/**
 * The generated RBAC on a real API server: the ServiceAccounts, Roles and RoleBindings in knative/base are
 * applied (into namespaces of the test's own) and `kubectl auth can-i --as=<service account>` must answer
 * that run-pod and monitor may do exactly what their code does, and nothing else.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubeSkipReason, waitFor } from '../shared/sandbox/kubernetes/test-cluster';
import { EXECUTOR_NAMESPACE, manifests, NAMESPACE, serviceName } from './manifests';

const run = promisify(execFile);
const kubectl = process.env.INTEGR8S_KUBECTL;
const skip = kubeSkipReason() ?? (kubectl ? null : 'INTEGR8S_KUBECTL is not set');
if (skip) console.warn(`knative RBAC: ${skip}; skipping`);

const suffix = randomBytes(3).toString('hex');
const functionsNs = `rbac-functions-${suffix}`;
const executorNs = `rbac-executions-${suffix}`;
const account = (fn: string) => `system:serviceaccount:${functionsNs}:${serviceName({ name: fn })}`;

async function k(args: string[], input?: string): Promise<{ code: number; out: string }> {
  const base = ['--kubeconfig', process.env.INTEGR8S_KUBECONFIG!, '--request-timeout=20s'];
  const child = run(kubectl!, [...base, ...args], { timeout: 30_000 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    const { stdout } = await child;
    return { code: 0, out: stdout.trim() };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}`.trim() };
  }
}

/** `kubectl auth can-i`: true for yes, false for no (anything else fails the test). */
async function can(fn: string, verb: string, resource: string, namespace = executorNs, subresource?: string) {
  const args = ['auth', 'can-i', verb, resource, `--as=${account(fn)}`, '-n', namespace];
  if (subresource) args.push(`--subresource=${subresource}`);
  const { code, out } = await k(args);
  if (out !== 'yes' && out !== 'no')
    throw new Error(`kubectl auth can-i ${args.join(' ')}: ${out} (exit ${code})`);
  return out === 'yes';
}

/** Every `resource|verb` a subject may use in a namespace, beyond what any authenticated account may. */
async function grants(subject: string, namespace: string): Promise<string[]> {
  const table = async (as: string) => {
    const { code, out } = await k(['auth', 'can-i', '--list', `--as=${as}`, '-n', namespace]);
    if (code !== 0) throw new Error(out);
    const rules = new Set<string>();
    for (const line of out.split('\n').slice(1)) {
      const match = /^(\S+)\s+\[\]\s+\[(.*?)\]\s+\[(.*?)\]$/.exec(line.trim());
      if (!match) continue;
      for (const verb of match[3]!.split(' ').filter(Boolean)) rules.add(`${match[1]}|${verb}`);
    }
    return rules;
  };
  const everyone = await table(`system:serviceaccount:${functionsNs}:nobody`);
  return [...(await table(subject))].filter((rule) => !everyone.has(rule)).sort();
}

describe.skipIf(skip)('the generated RBAC on a real API server', () => {
  beforeAll(async () => {
    // The generated ServiceAccounts, Roles and RoleBindings, moved into this test's namespaces.
    const move = (ns: unknown) =>
      ns === EXECUTOR_NAMESPACE ? executorNs : ns === NAMESPACE ? functionsNs : ns;
    const objects = Object.entries(manifests())
      .filter(([path]) => path === 'knative/base/services.yaml' || path === 'knative/base/rbac.yaml')
      .flatMap(
        ([, docs]) =>
          docs as { kind: string; metadata: { namespace?: string }; subjects?: { namespace?: string }[] }[],
      )
      .filter((doc) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(doc.kind))
      .map((doc) => {
        const copy = structuredClone(doc);
        copy.metadata.namespace = move(copy.metadata.namespace) as string;
        for (const subject of copy.subjects ?? []) subject.namespace = move(subject.namespace) as string;
        return copy;
      });
    expect(objects.filter((o) => o.kind === 'Role').length).toBe(2);
    for (const ns of [functionsNs, executorNs]) expect((await k(['create', 'namespace', ns])).code).toBe(0);
    const applied = await k(
      ['apply', '-f', '-'],
      stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    );
    expect(applied.code, applied.out).toBe(0);
    // RBAC takes effect within moments of the binding.
    await waitFor(() => can('monitor', 'list', 'pods'), { what: "monitor's Role to take effect" });
  });
  afterAll(async () => {
    await k(['delete', 'namespace', functionsNs, executorNs, '--wait=false']);
  });

  it('run-pod may create, read, watch and delete pods, create, read and delete ConfigMaps; nothing more', async () => {
    for (const verb of ['create', 'delete', 'get', 'list', 'watch'])
      expect(await can('run-pod', verb, 'pods')).toBe(true);
    for (const verb of ['create', 'delete', 'get'])
      expect(await can('run-pod', verb, 'configmaps')).toBe(true);
    for (const verb of ['update', 'patch', 'deletecollection'])
      expect(await can('run-pod', verb, 'pods')).toBe(false);
    for (const verb of ['list', 'update', 'patch'])
      expect(await can('run-pod', verb, 'configmaps')).toBe(false);
    for (const sub of ['exec', 'attach', 'portforward']) {
      expect(await can('run-pod', 'create', 'pods', executorNs, sub), sub).toBe(false);
    }
    expect(await can('run-pod', 'get', 'pods', executorNs, 'log')).toBe(false);
    for (const verb of ['get', 'list']) expect(await can('run-pod', verb, 'secrets')).toBe(false);
    expect(await grants(account('run-pod'), executorNs)).toEqual([
      'configmaps|create',
      'configmaps|delete',
      'configmaps|get',
      'pods|create',
      'pods|delete',
      'pods|get',
      'pods|list',
      'pods|watch',
    ]);
  });

  it('monitor may follow and delete pods, read their logs, list and delete ConfigMaps; nothing more', async () => {
    for (const verb of ['get', 'list', 'watch', 'delete'])
      expect(await can('monitor', verb, 'pods')).toBe(true);
    expect(await can('monitor', 'get', 'pods', executorNs, 'log')).toBe(true);
    for (const verb of ['list', 'delete']) expect(await can('monitor', verb, 'configmaps')).toBe(true);
    for (const verb of ['create', 'update', 'patch']) expect(await can('monitor', verb, 'pods')).toBe(false);
    for (const verb of ['create', 'get', 'update'])
      expect(await can('monitor', verb, 'configmaps')).toBe(false);
    for (const sub of ['exec', 'attach', 'portforward']) {
      expect(await can('monitor', 'create', 'pods', executorNs, sub), sub).toBe(false);
    }
    for (const verb of ['get', 'list']) expect(await can('monitor', verb, 'secrets')).toBe(false);
    expect(await grants(account('monitor'), executorNs)).toEqual([
      'configmaps|delete',
      'configmaps|list',
      'pods/log|get',
      'pods|delete',
      'pods|get',
      'pods|list',
      'pods|watch',
    ]);
  });

  it('neither reaches outside the executor namespace, and no other function has any access', async () => {
    for (const fn of ['run-pod', 'monitor']) {
      for (const ns of [functionsNs, 'default', 'kube-system']) {
        expect(await can(fn, 'list', 'pods', ns), `${fn} in ${ns}`).toBe(false);
        expect(await can(fn, 'get', 'secrets', ns), `${fn} in ${ns}`).toBe(false);
      }
      expect(await grants(account(fn), functionsNs), `${fn} in its own namespace`).toEqual([]);
    }
    for (const fn of ['submit', 'store-result', 'stream-sse', 'notify']) {
      expect(await grants(account(fn), executorNs), fn).toEqual([]);
    }
  });
});
