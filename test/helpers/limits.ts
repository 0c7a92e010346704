import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';

/** Sets `limits` entries in an environment's viaduct.yaml (for startEnv's `configure`). */
export function withLimits(limits: Record<string, number>): (dir: string) => Promise<void> {
  return async (dir) => {
    const file = path.join(dir, 'viaduct.yaml');
    const config = parse(await readFile(file, 'utf8')) as { limits?: Record<string, number> };
    config.limits = { ...config.limits, ...limits };
    await writeFile(file, stringify(config));
  };
}
