#!/usr/bin/env node
import { createRequire } from 'node:module';

// The CLI runs from its bundle (scripts/bundle.js), whose source map makes stack traces point at src/*.ts.
process.setSourceMapsEnabled(true);
const { main } = createRequire(import.meta.url)('../dist/bundle/cli.cjs');

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
});
