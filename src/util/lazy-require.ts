import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Loads a driver package on first use, so a server starts without loading the drivers of the
 * connection types it does not use. Every driver is a dependency of Viaduct (batteries
 * included, docs/architecture.md), so a failure here is a broken install, reported as it is.
 */
export function requireDriver<T>(pkg: string): T {
  return require(pkg) as T;
}
