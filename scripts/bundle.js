// Bundles the programs the CLI starts, after tsc (`npm run build` runs both): the CLI with the
// primary (dist/bundle/cli.cjs, loaded by bin/viaduct.js) and the worker (dist/bundle/worker.cjs,
// started by dist/bundle/start-worker.cjs). One file each instead of hundreds of modules makes a
// cold start much faster (docs/architecture.md, "Start-up"). npm packages stay external: Node
// loads them as usual, drivers only when first used. Each bundle has a source map, which the
// launchers turn on, so stack traces point at src/*.ts. Usage: node scripts/bundle.js
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const outdir = path.join(root, 'dist', 'bundle');

/**
 * `import.meta.url` in a source file becomes the URL its tsc output has (dist/src/...), so paths
 * computed from it (bin/viaduct.js, createRequire) resolve as they do unbundled.
 */
const importMetaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const compiled = path.relative(root, args.path).replace(/\.ts$/, '.js').split(path.sep).join('/');
      return {
        contents: source.replaceAll('import.meta.url', `__viaductDistUrl(${JSON.stringify(compiled)})`),
        loader: 'ts',
      };
    });
  },
};

/** The primary forks the bundled worker (src/server/worker-script.ts names the unbundled one). */
const workerScript = {
  name: 'worker-script',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]server[\\/]worker-script\.ts$/ }, () => ({
      contents:
        "import path from 'node:path';\nexport const WORKER_SCRIPT = path.join(__dirname, 'start-worker.cjs');\n",
      loader: 'ts',
    }));
  },
};

/**
 * Pure-JavaScript packages every process loads at start, bundled in: each is a graph of many
 * small modules (zod alone is over a hundred), and resolving and loading them one by one took a
 * good part of a start. Everything else stays outside the bundles and loads as usual, drivers
 * (pg, mysql2, better-sqlite3, amqplib, ...) only when first used.
 */
const BUNDLED_PACKAGES = new Set(['zod', 'yaml', 'kysely']);
const selectiveExternals = {
  name: 'selective-externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

const banner = [
  '"use strict";',
  'function __viaductDistUrl(file) { return require("node:url").pathToFileURL(require("node:path").join(__dirname, "..", file)).href; }',
].join('\n');

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli/main.ts', worker: 'src/server/worker-main.ts' },
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  sourcesContent: false,
  banner: { js: banner },
  plugins: [selectiveExternals, workerScript, importMetaUrl],
  logLevel: 'warning',
});
await writeFile(path.join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
// Source maps must be on before a bundle is compiled for its stack traces to be mapped.
await writeFile(
  path.join(outdir, 'start-worker.cjs'),
  "'use strict';\n// A server's worker (node:cluster runs this file). Stack traces point at src/*.ts.\nprocess.setSourceMapsEnabled(true);\nrequire('./worker.cjs');\n",
);
