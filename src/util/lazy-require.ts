import { createRequire } from 'node:module';
import { ViaductError } from '../errors.js';

const require = createRequire(import.meta.url);

/** Loads a backend's driver package on first use; a missing one names the package to install. */
export function requireDriver<T>(pkg: string, purpose: string): T {
  try {
    return require(pkg) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new ViaductError('VIA_ERR_DRIVER_MISSING', `The '${pkg}' package is missing; it is needed for ${purpose}: npm install ${pkg}`);
    }
    throw error;
  }
}
