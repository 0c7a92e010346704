import { getHeapStatistics } from 'node:v8';
import type { Invoker } from '../service/invoker.js';
import type { ProcessLink } from '../util/process-link/process-link.js';
import { WORKER_RECYCLE } from './control.js';

/** How often a worker looks at its heap. */
const CHECK_MS = 250;

/**
 * Asks the primary to replace this worker, gracefully, once its heap has grown past `ratio` of
 * its limit (limits.worker_heap_mb, given to the worker as --max-old-space-size): short of the
 * limit, where V8 would abort the process and every request in flight with it. Asked once; the
 * primary starts a replacement, then has this worker drain.
 */
export function watchHeap(link: ProcessLink, invoker: Invoker, heapMb: number, ratio: number): void {
  // Measured against the limit set, not V8's heap_size_limit: that adds the young generation
  // (tens of MiB), and a share of it may lie beyond the old generation's limit, where V8 aborts.
  const limit = heapMb * 2 ** 20;
  const timer = setInterval(() => {
    const used = getHeapStatistics().used_heap_size;
    if (used < limit * ratio) return;
    clearInterval(timer);
    link.notify(WORKER_RECYCLE, {
      reason: 'Worker heap near its limit',
      details: {
        heapUsedMb: Math.round(used / 2 ** 20),
        heapLimitMb: Math.round(limit / 2 ** 20),
        running: [...new Set(invoker.running.list().map((r) => r.service))],
      },
    });
  }, CHECK_MS);
  timer.unref();
}
