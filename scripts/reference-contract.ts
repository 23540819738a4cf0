/**
 * Writes the compact contract of the reference API (`test/reference/reference-api.json`) that the
 * OpenAPI comparison test holds our document to. Run by hand when the reference changes:
 *   npx tsx scripts/reference-contract.ts path/to/reference-openapi.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { apiContract } from '../shared/http/openapi/contract';

const source = process.argv[2];
if (!source) {
  console.error('usage: npx tsx scripts/reference-contract.ts <reference-openapi.json>');
  process.exit(2);
}
const contract = apiContract(JSON.parse(readFileSync(source, 'utf8')));
const target = new URL('../test/reference/reference-api.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(contract, null, 2)}\n`);
console.log(`${Object.keys(contract).length} operations written to test/reference/reference-api.json`);
