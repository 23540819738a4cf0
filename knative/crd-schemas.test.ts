/**
 * Every generated custom resource against its CRD's `openAPIV3Schema` (ajv), schemas fetched at test time
 * from the Go modules that ship them. Webhook-only rules live in rules.ts; core kinds and Strimzi's
 * KafkaTopic have no schema here (see crd-schemas.ts).
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CRD_FILES,
  crdSchema,
  ensureCrdFiles,
  NOT_COVERED,
  refuseUnknownFields,
  withObjectFields,
} from './crd-schemas';
import { manifests } from './manifests';
import type { Manifest } from './rules';

interface Validator {
  (data: unknown): boolean;
  errors?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }> | null;
}
interface AjvInstance {
  compile(schema: unknown): Validator;
  addFormat(name: string, format: { type: 'number'; validate: (n: number) => boolean }): unknown;
}
type AjvClass = new (options: Record<string, unknown>) => AjvInstance;

async function loadAjv(): Promise<AjvClass | string> {
  try {
    const mod = (await import('ajv')) as unknown as { default: AjvClass & { default?: AjvClass } };
    return mod.default.default ?? mod.default;
  } catch {
    return 'ajv@8 is not installed (add it as a devDependency)';
  }
}

const ajvOrReason = await loadAjv();
const go = spawnSync('go', ['version'], { encoding: 'utf8' });
const missing =
  typeof ajvOrReason === 'string' ? ajvOrReason : go.error ? 'the go command is not on PATH' : '';
if (missing) console.warn(`[crd-schemas.test] ${missing}: CRD schema validation skipped`);

const objects = () =>
  Object.entries(manifests())
    .filter(([path]) => !path.endsWith('kustomization.yaml'))
    .flatMap(([, docs]) => docs as Manifest[]);
const typeOf = (doc: Manifest) => `${doc.apiVersion} ${doc.kind}`;

describe.skipIf(Boolean(missing))('manifests against the CRD schemas', () => {
  const validators = new Map<string, Validator>();

  beforeAll(() => {
    ensureCrdFiles();
    const Ajv = ajvOrReason as AjvClass;
    const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
    const within = (bits: number) => (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** (bits - 1);
    ajv.addFormat('int32', { type: 'number', validate: within(32) });
    ajv.addFormat('int64', { type: 'number', validate: within(64) });
    for (const [type, file] of Object.entries(CRD_FILES)) {
      const [apiVersion, kind] = type.split(' ') as [string, string];
      validators.set(
        type,
        ajv.compile(refuseUnknownFields(withObjectFields(crdSchema(file, apiVersion, kind)))),
      );
    }
  }, 600_000);

  const check = (doc: Manifest) => {
    const validate = validators.get(typeOf(doc))!;
    return validate(doc)
      ? []
      : (validate.errors ?? []).map(
          (e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params ?? {})}`,
        );
  };

  it('every generated custom resource is valid for its CRD', () => {
    // A new kind fails here until it is given a schema or listed as not covered.
    const kinds = new Set(objects().map(typeOf));
    expect([...kinds].sort()).toEqual([...Object.keys(CRD_FILES), ...NOT_COVERED].sort());
    const custom = objects().filter((doc) => validators.has(typeOf(doc)));
    for (const doc of custom) expect(check(doc), `${typeOf(doc)} ${doc.metadata.name}`).toEqual([]);
  });

  it('the schemas catch wrong types, missing required fields and misspelt fields', () => {
    const docs = objects();
    const service = structuredClone(
      docs.find((d) => d.kind === 'Service' && d.apiVersion.startsWith('serving'))!,
    );
    service.spec.template.spec.timeoutSeconds = 'ten';
    expect(check(service).join('\n')).toMatch(/timeoutSeconds must be integer/);

    const source = structuredClone(docs.find((d) => d.kind === 'KafkaSource')!);
    delete source.spec.topics;
    expect(check(source).join('\n')).toMatch(/must have required property 'topics'/);

    const misspelt = structuredClone(
      docs.find((d) => d.kind === 'Service' && d.apiVersion.startsWith('serving'))!,
    );
    misspelt.spec.template.spec.containerConcurency = 0;
    expect(check(misspelt).join('\n')).toMatch(/must NOT have additional properties/);

    const route = structuredClone(docs.find((d) => d.kind === 'HTTPRoute')!);
    route.spec.rules[0].matches[0].path.type = 'Prefix';
    expect(check(route).join('\n')).toMatch(/must be equal to one of the allowed values/);
  });
});
