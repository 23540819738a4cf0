import { stringify } from 'yaml';
import { manifests } from './manifests';

const HEADER =
  '# Generated from functions/registry.ts by `npx tsx knative/generate.ts`; do not edit by hand.\n';

/** Multi-document YAML text of every manifest file, by path. */
export function renderManifests(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(manifests()).map(([path, docs]) => [
      path,
      HEADER +
        docs.map((doc) => stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'),
    ]),
  );
}
