// `npm start`: creates the quickstart environment in .viaduct/quickstart on first use, then runs
// it in the foreground (Ctrl-C stops it cleanly).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

process.setSourceMapsEnabled(true);
const { main } = createRequire(import.meta.url)('../dist/bundle/cli.cjs');

const dir = process.env.VIADUCT_QUICKSTART_DIR ?? '.viaduct/quickstart';

if (!existsSync(`${dir}/viaduct.yaml`)) {
  const code = await main(['quickstart', dir]);
  if (code !== 0) process.exit(code);
}
const code = await main(['start', dir, '--fg']);
if (code >= 0) process.exitCode = code;
