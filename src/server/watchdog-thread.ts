import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CURRENT_INVOCATION_LAYOUT, type CurrentInvocation } from '../service/current-invocation.js';

/** How long the main thread may miss its ticks before the watchdog notes what it runs. */
const STALL_MS = 750;

/**
 * The watchdog's code: a thread of its own, so it runs while the worker's main thread is stuck.
 * It imports nothing of the platform (it is evaluated from this text, bundled build or not).
 * Once the tick stops moving, it writes the invocation that runs now to a small file, where the
 * primary reads it when it replaces the blocked worker; the file goes when the tick moves again.
 */
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeFileSync, rmSync } = require('node:fs');
const { buffer, file, stallMs, layout } = workerData;
const header = new Int32Array(buffer, 0, 3);
const decoder = new TextDecoder();
let lastTick = Atomics.load(header, layout.TICK);
let lastMoved = Date.now();
let written = false;
setInterval(() => {
  const tick = Atomics.load(header, layout.TICK);
  if (tick !== lastTick) {
    lastTick = tick;
    lastMoved = Date.now();
    if (written) rmSync(file, { force: true });
    written = false;
    return;
  }
  if (written || Date.now() - lastMoved < stallMs) return;
  const nameLength = Atomics.load(header, layout.NAME_LENGTH);
  const cidLength = Atomics.load(header, layout.CID_LENGTH);
  const name = new Uint8Array(buffer, layout.HEADER_BYTES, nameLength).slice();
  const cid = new Uint8Array(buffer, layout.HEADER_BYTES + layout.NAME_BYTES, cidLength).slice();
  const current = nameLength === 0 ? {} : { service: decoder.decode(name), cid: decoder.decode(cid) };
  writeFileSync(file, JSON.stringify({ ...current, since: new Date(lastMoved).toISOString() }));
  written = true;
}, 100);
`;

/** Where a worker's watchdog notes what blocks it; the primary reads it by the worker's pid. */
export function blockedFile(runDir: string, pid: number): string {
  return path.join(runDir, `worker-${pid}.blocked.json`);
}

/** Starts the watchdog thread of this worker; it never keeps the process alive. */
export function startWatchdog(current: CurrentInvocation, runDir: string): Worker {
  const thread = new Worker(WATCHDOG_SOURCE, {
    eval: true,
    workerData: {
      buffer: current.buffer,
      file: blockedFile(runDir, process.pid),
      stallMs: STALL_MS,
      layout: CURRENT_INVOCATION_LAYOUT,
    },
    // A thread's heap is its own; the watchdog needs little.
    resourceLimits: { maxOldGenerationSizeMb: 16 },
  });
  thread.unref();
  return thread;
}
