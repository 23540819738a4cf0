/** Writes the manifests derived from the function registry. Run: `npx tsx knative/generate.ts`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderManifests } from './render';

for (const [path, text] of Object.entries(renderManifests())) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
