/**
 * Bundles every function into minified ESM: a small entry, dist/functions/<name>.mjs, and the chunks it
 * loads from dist/functions/<name>/. The bundle is split at the platform, so a process loads either the
 * stack's code (MongoDB, Redis, Kafka clients) or the embedded platform's (SQLite, in-process bus), never
 * both. The embedded server is one file, dist/embedded.mjs. Reports what each process loads until ready.
 * Run: `npm run build:functions`.
 */
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
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
  // Paths in the metafile are relative to this.
  absWorkingDir: root,
  // The MongoDB driver parses MONGO_URL with whatwg-url's URL class: a JavaScript copy of the WHATWG URL
  // standard whose Unicode tables (tr46) were a fifth of every stack process's code. Node's own URL
  // implements the same standard. Only `URL` is taken from it, which every start exercises.
  alias: { 'whatwg-url': 'node:url' },
};

interface Sizes {
  name: string;
  /** Bytes of JavaScript a process of this bundle loads until it is ready, on each platform. */
  stack: number;
  embedded: number;
}

/**
 * Bytes of the output files a process loads from `entry` until it is ready: what they import, and what
 * the entry and serve.ts import on demand (its platform's chunk, not `skipped`, the other platform's).
 * Later imports, such as the Kafka client at the first publish, are left out.
 */
function startBytes(outputs: Metafile['outputs'], entry: string, skipped: string): number {
  const loaded = new Set<string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    const output = outputs[file]!;
    const starting = file === entry || output.entryPoint === 'shared/platform/serve.ts';
    for (const { path: next, kind, external } of output.imports) {
      if (external || (kind === 'dynamic-import' && !starting)) continue;
      if (outputs[next]!.entryPoint !== skipped) visit(next);
    }
  };
  visit(entry);
  return [...loaded].reduce((sum, file) => sum + outputs[file]!.bytes, 0);
}

async function bundleEmbedded(): Promise<Sizes> {
  const outfile = path.join(root, 'dist/embedded.mjs');
  await build({ ...common, entryPoints: [path.join(root, 'shared/platform/embedded-main.ts')], outfile });
  const { size } = statSync(outfile);
  return { name: 'embedded', stack: 0, embedded: size };
}

async function bundleFunction(name: string, exportName: string): Promise<Sizes> {
  const outdir = path.join(root, 'dist/functions');
  // Chunk names carry content hashes: the previous build's would pile up.
  rmSync(path.join(outdir, name), { recursive: true, force: true });
  const { metafile } = await build({
    ...common,
    stdin: {
      // The entry turns on Node's compile cache (22+; Node 20 has none) before it imports anything else,
      // so later starts on the same machine reuse V8's compiled code for all of it (kept under the
      // temporary directory).
      contents: `import module from 'node:module';
module.enableCompileCache?.();
const [{ serveFunction }, { ${exportName}: definition }] = await Promise.all([
  import('./shared/platform/serve'),
  import('./functions/${name}'),
]);
await serveFunction(definition);
`,
      resolveDir: root,
      loader: 'ts',
      sourcefile: `functions/${name}/main.ts`,
    },
    splitting: true,
    outdir,
    entryNames: name,
    chunkNames: `${name}/[name]-[hash]`,
    outExtension: { '.js': '.mjs' },
  });
  const entry = `dist/functions/${name}.mjs`;
  return {
    name,
    stack: startBytes(metafile!.outputs, entry, 'shared/platform/embedded.ts'),
    embedded: startBytes(metafile!.outputs, entry, 'shared/platform/stack.ts'),
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
  bundleEmbedded(),
  ...FUNCTIONS.map((f) => bundleFunction(f.name, exportNames[f.name]!)),
]);
const width = Math.max(...results.map((r) => r.name.length));
const kib = (bytes: number) => (bytes === 0 ? '—' : `${(bytes / 1024).toFixed(1)} KiB`);
console.log(
  `${''.padEnd(width)}  ${'stack'.padStart(12)}  ${'embedded'.padStart(12)}  JavaScript loaded until ready, by PLATFORM`,
);
for (const { name, stack, embedded } of results)
  console.log(`${name.padEnd(width)}  ${kib(stack).padStart(12)}  ${kib(embedded).padStart(12)}`);
console.log(`built ${results.length} bundles in ${Math.round(performance.now() - started)} ms`);
