import path from 'node:path';

/** How each deployable file's source is read by the compiler. */
export const LOADERS = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.js': 'js', '.mjs': 'js', '.cjs': 'js' } as const;

/** Whether a file is a service source (kept apart from the compiler so the primary need not load it). */
export function isDeployableFile(file: string): boolean {
  return Object.hasOwn(LOADERS, path.extname(file)) && !file.endsWith('.d.ts');
}
