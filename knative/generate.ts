/** Writes the manifests derived from the function registry. Run: `npx tsx knative/generate.ts`. */
import { writeFileSync } from 'node:fs';
import { renderManifests } from './render';

for (const [path, text] of Object.entries(renderManifests())) {
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
