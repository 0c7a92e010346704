import { fileURLToPath } from 'node:url';

/**
 * The program node:cluster runs as a worker. In the bundled build (scripts/bundle.js) this module
 * is replaced by one naming dist/bundle/worker.cjs, so a bundled primary forks a bundled worker.
 */
export const WORKER_SCRIPT = fileURLToPath(new URL('./worker-main.js', import.meta.url));
