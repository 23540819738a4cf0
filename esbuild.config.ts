/**
 * Bundles every function into its own minified ESM file (dist/functions/<name>.mjs) and the
 * embedded server into dist/embedded.mjs, then reports each bundle's size.
 * Run: `npm run build:functions`.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { FUNCTIONS } from './functions/registry';

const root = import.meta.dirname;

const common: BuildOptions = {
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Native addon: loaded from node_modules at run time.
  external: ['better-sqlite3'],
  // ESM bundles still meet CommonJS dependencies that call require().
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
  metafile: true,
};

async function bundle(
  name: string,
  outfile: string,
  entry: BuildOptions,
): Promise<{ name: string; bytes: number }> {
  await build({ ...common, ...entry, outfile });
  return { name, bytes: statSync(outfile).size };
}

function functionEntry(name: string, exportName: string): BuildOptions {
  return {
    stdin: {
      contents: `import { serveFunction } from './shared/platform/serve';\nimport { ${exportName} } from './functions/${name}';\nawait serveFunction(${exportName});\n`,
      resolveDir: root,
      loader: 'ts',
      sourcefile: `functions/${name}/main.ts`,
    },
  };
}

/** The name each function's index.ts exports its definition under. */
const exportNames: Record<string, string> = {};
for (const definition of FUNCTIONS) {
  const module = await import(`./functions/${definition.name}/index.ts`);
  const found = Object.entries(module).find(([, value]) => value === definition);
  if (!found) throw new Error(`functions/${definition.name}/index.ts does not export its definition`);
  exportNames[definition.name] = found[0];
}

const started = performance.now();
const results = await Promise.all([
  bundle('embedded', path.join(root, 'dist/embedded.mjs'), {
    entryPoints: [path.join(root, 'shared/platform/embedded-main.ts')],
  }),
  ...FUNCTIONS.map((f) =>
    bundle(
      f.name,
      path.join(root, `dist/functions/${f.name}.mjs`),
      functionEntry(f.name, exportNames[f.name]!),
    ),
  ),
]);
const width = Math.max(...results.map((r) => r.name.length));
for (const { name, bytes } of results)
  console.log(`${name.padEnd(width)}  ${(bytes / 1024).toFixed(1).padStart(8)} KiB`);
console.log(`built ${results.length} bundles in ${Math.round(performance.now() - started)} ms`);
