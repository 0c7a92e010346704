// Runs every compiled test file with node's built-in test runner.
// Usage: node scripts/test.js [filter] [--exclude=SUBSTRING]...
//   filter: a substring of the test file's path; --exclude leaves out the files whose path has it.
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve('dist/test');
const args = process.argv.slice(2);
const excluded = args.filter((a) => a.startsWith('--exclude=')).map((a) => a.slice('--exclude='.length));
const filter = args.find((a) => !a.startsWith('--exclude='));

function collect(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return collect(full);
    return name.endsWith('.test.js') ? [full] : [];
  });
}

const files = collect(root)
  .filter((f) => filter === undefined || f.includes(filter))
  .filter((f) => !excluded.some((part) => f.includes(part)))
  .sort();
if (files.length === 0) {
  console.error(`No test files${filter ? ` matching ${filter}` : ''} under ${root}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
