import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isRunning } from '../../src/util/pid-liveness.js';
import {
  servedByEveryWorker,
  startFaultEnv,
  SteadyLoad,
  type AdminAnswer,
  type FaultEnv,
  type WindowCounts,
} from './fault-fixture.js';

/** One fault: which proxy, and whether it cuts (reset) or falls silent (stall), for how long. */
export interface Fault {
  readonly target: 'redis' | 'odb';
  /** reset: refused and cut; stall: silent, answers lost; delay: nothing moves, then everything held back arrives. */
  readonly kind: 'reset' | 'stall' | 'delay';
  readonly ms: number;
}

/**
 * An admin change during a fault answers within its deadlines (10 s for the ODB, then 10 s for the
 * workers' confirmations), well before the admin call's limit.
 */
const ANSWER_WITHIN_MS = 25_000;

/** How long after a fault ends every worker must serve the change made during it. */
export const CONVERGE_WITHIN_MS = 15_000;
/**
 * How long after a fault ends the singleton lease must be renewed and every presence row refreshed:
 * one renewal interval (5 s), or a takeover after the stale time (15 s) plus one interval.
 */
const LIVELY_WITHIN_MS = 30_000;
/** An ODB fault this long outlasts the singleton's fencing (stale time minus one interval). */
const FENCED_AFTER_MS = 15_000;
/** The share of REST requests that must be answered 200 during and after a fault. */
const MIN_ANSWERED = 0.99;
/** REST requests a second, spread over the servers. */
const LOAD_PER_SECOND = 60;

export const FAULT_TEST = { timeout: 300_000 } as const;

/**
 * Runs one fault against a fresh cluster under steady REST load, with one admin change made
 * while it lasts, then checks that no process died, nothing unhandled was logged, the REST
 * channel kept answering, and every worker serves the change soon after the fault ends.
 */
export async function tryFault(t: TestContext, fault: Fault): Promise<void> {
  const env = await startFaultEnv(t, { servers: 2, workers: 2 });
  const proxy = fault.target === 'redis' ? env.redis : env.odb;
  const channel = `made-during-${fault.target}-${fault.kind}`;
  const load = new SteadyLoad(
    env.servers.map((s) => `${s.url}/echo`),
    LOAD_PER_SECOND,
  );
  const before = await env.processes();
  let faultOn = false;
  const loadStarted = Date.now();
  load.start();
  try {
    await delay(2_000);
    const faultStart = Date.now();
    faultOn = true;
    if (fault.kind === 'reset') await proxy.stop();
    else if (fault.kind === 'stall') proxy.silence(true);
    else proxy.hold(true);
    // The change is made once the fault is in effect, through the admin API of the first server.
    await delay(1_000);
    const answer = env.admin('viaduct.channel.rest.create', {
      name: channel,
      path: `/${channel}`,
      service: 'fault.echo',
    });
    await delay(faultStart + fault.ms - Date.now());
    const holdersAtEnd = await env.singletonHolders();
    if (fault.kind === 'reset') await proxy.start();
    else if (fault.kind === 'stall') proxy.silence(false);
    else proxy.hold(false);
    faultOn = false;
    const faultEnd = Date.now();

    let adminSettled = false;
    void answer.then(() => (adminSettled = true));
    // Converged, or the change was refused: then it is not in the ODB once the call has answered.
    const outcome = await convergence(env, `/${channel}`, faultEnd, async () =>
      adminSettled ? !(await env.odbHas('channel.rest', channel)) : false,
    );
    const admin = await answer;
    let remade: AdminAnswer | undefined;
    let convergedMs = outcome.ms;
    const committed = outcome.ms !== undefined || (await env.odbHas('channel.rest', channel));
    if (!committed) {
      // The change was not made: a 200 would have been a lie. Made now, it must reach every worker.
      assert.notEqual(admin.status, 200, `the admin call answered 200 but ${channel} is not in the ODB`);
      remade = await env.admin('viaduct.channel.rest.create', {
        name: channel,
        path: `/${channel}`,
        service: 'fault.echo',
      });
      convergedMs = (await convergence(env, `/${channel}`, Date.now())).ms;
    }
    const lively = await liveness(env, faultEnd);
    // Once the fault is over, a change takes the usual way again: broadcast, and acknowledged by every worker.
    const later = await env.admin(
      'viaduct.channel.rest.create',
      { name: `${channel}-after`, path: `/${channel}-after`, service: 'fault.echo' },
      60_000,
    );
    const laterServed = later.status === 200 ? (await convergence(env, `/${channel}-after`, Date.now())).ms : undefined;
    await delay(2_000);
    const loadEnd = Date.now();
    await load.stop();

    const during = await load.counts(faultStart, faultEnd);
    const afterwards = await load.counts(faultEnd, loadEnd);
    const baseline = await load.counts(loadStarted, faultStart);
    const after = await env.processes();
    const problems = await env.logProblems();

    const name = `${fault.target} ${fault.kind} ${fault.ms / 1000} s`;
    if (convergedMs === undefined) t.diagnostic(`${name}: not converged: ${await state(env, `/${channel}`)}`);
    if (laterServed === undefined) t.diagnostic(`${name}: not converged: ${await state(env, `/${channel}-after`)}`);
    t.diagnostic(
      `${name}: a change after the fault answered ${later.status}${later.code ? ` ${later.code}` : ''} in ${later.ms} ms, in force on every worker ${laterServed === undefined ? 'NOT' : `${laterServed} ms`} after`,
    );
    for (const [line, count] of await env.logSummary()) t.diagnostic(`${name}: logged ${count}× ${line}`);
    t.diagnostic(`${name}: REST before the fault ${describe(baseline)}`);
    t.diagnostic(`${name}: REST during the fault ${describe(during)}`);
    t.diagnostic(`${name}: REST after the fault ${describe(afterwards)}`);
    t.diagnostic(
      `${name}: admin change during the fault answered ${admin.status}${admin.code ? ` ${admin.code}` : ''} after ${admin.ms} ms${
        committed ? '' : `; not committed, made again after the fault: ${remade?.status} ${remade?.code ?? ''}`
      }`,
    );
    t.diagnostic(
      `${name}: at the fault's end ${holdersAtEnd.length === 0 ? 'no server' : holdersAtEnd.join(', ')} acted as singleton; ${
        lively === undefined
          ? 'the singleton lease, presence rows and scheduled runs did NOT resume'
          : `one singleton renewing its lease, every presence row refreshed and the job run again ${lively} ms after it`
      }`,
    );
    t.diagnostic(
      `${name}: every worker served the change ${convergedMs === undefined ? 'NOT' : `${convergedMs} ms`} after ${
        committed ? 'the fault ended' : 'it was made again'
      }`,
    );

    assert.deepEqual(
      [...after].filter(([, pid]) => !isRunning(pid)),
      [],
      'no Viaduct process died',
    );
    assert.deepEqual(Object.fromEntries(after), Object.fromEntries(before), 'no Viaduct process was replaced');
    assert.deepEqual(problems, [], 'nothing fatal or unhandled was logged');
    assert.ok(during.sent > 0 && afterwards.sent > 0, 'the load ran');
    assert.ok(during.ok / during.sent >= MIN_ANSWERED, `during the fault: ${describe(during)}`);
    assert.ok(afterwards.ok / afterwards.sent >= MIN_ANSWERED, `after the fault: ${describe(afterwards)}`);
    assert.notEqual(typeof admin.status, 'string', `the admin call got no answer: ${admin.status}`);
    // The answer tells the truth about the commit, before the call's own limit could cut it short
    // (docs/architecture.md, "What an admin change answers").
    assert.ok(admin.ms < ANSWER_WITHIN_MS, `the admin call answered after ${admin.ms} ms`);
    if (committed)
      assert.ok(
        admin.status === 200 || admin.status === 202 || admin.code === 'VIA_ERR_OUTCOME_UNKNOWN',
        `a committed change answered ${admin.status} ${admin.code ?? ''}`,
      );
    else
      assert.ok(
        admin.code === 'VIA_ERR_ODB_UNREACHABLE' || admin.code === 'VIA_ERR_OUTCOME_UNKNOWN',
        `a change that was not committed answered ${admin.status} ${admin.code ?? ''}`,
      );
    assert.ok(committed || remade?.status === 200, `making the change again answered ${JSON.stringify(remade)}`);
    assert.ok(convergedMs !== undefined, `every worker serves /${channel} within ${CONVERGE_WITHIN_MS} ms`);
    assert.equal(later.status, 200, `a change after the fault answered ${JSON.stringify(later)}`);
    assert.ok(laterServed !== undefined, 'the change made after the fault reached every worker');
    if (fault.target === 'odb' && fault.ms >= FENCED_AFTER_MS)
      assert.deepEqual(holdersAtEnd, [], 'a singleton that cannot renew its lease stops acting as one');
    assert.ok(
      lively !== undefined,
      `the lease is renewed, presence refreshed and the job run again within ${LIVELY_WITHIN_MS} ms`,
    );
  } finally {
    if (faultOn) {
      proxy.silence(false);
      if (fault.kind === 'reset') await proxy.start().catch(() => undefined);
      proxy.hold(false);
    }
    await load.stop();
  }
}

/**
 * Milliseconds from `since` until every worker of every server serves `path` and reports the
 * ODB's version in force; undefined if that takes longer than CONVERGE_WITHIN_MS.
 */
async function convergence(
  env: FaultEnv,
  path: string,
  since: number,
  givenUp: () => Promise<boolean> = async () => false,
): Promise<{ ms: number | undefined }> {
  while (Date.now() - since < CONVERGE_WITHIN_MS) {
    if (await converged(env, path)) return { ms: Date.now() - since };
    if (await givenUp()) break;
    await delay(100);
  }
  return { ms: undefined };
}

/**
 * Milliseconds from `since` until one server acts as singleton, the lease row shows it renewed
 * since then, every server's presence row was refreshed since then, and the scheduler's job ran
 * since then; undefined past LIVELY_WITHIN_MS.
 */
async function liveness(env: FaultEnv, since: number): Promise<number | undefined> {
  const first = await env.odbLiveness().catch(() => undefined);
  while (Date.now() - since < LIVELY_WITHIN_MS) {
    try {
      const now = await env.odbLiveness();
      const renewed =
        first !== undefined && now.holder !== null && (now.generation !== first.generation || now.beat > first.beat);
      const present = env.servers.every((s) => (now.lastSeen.get(s.name) ?? 0) > since);
      const scheduled = now.lastRun > since;
      if (renewed && present && scheduled && (await env.singletonHolders()).length === 1) return Date.now() - since;
    } catch {
      // read again
    }
    await delay(250);
  }
  return undefined;
}

async function converged(env: FaultEnv, path: string): Promise<boolean> {
  for (const server of env.servers) if (!(await servedByEveryWorker(`${server.url}${path}`))) return false;
  try {
    return (await env.lowestWorkerVersion()) >= (await env.odbVersion());
  } catch {
    return false;
  }
}

/** Which servers serve `path` on every worker, and the versions in force, for a failure's message. */
async function state(env: FaultEnv, path: string): Promise<string> {
  const served = await Promise.all(
    env.servers.map(async (s) => `${s.name} ${await servedByEveryWorker(`${s.url}${path}`)}`),
  );
  const version = await env.odbVersion().catch(() => '?');
  return `${path} served by every worker: ${served.join(', ')}; ODB version ${version}; ${await env.workerVersions()}`;
}

function describe(counts: WindowCounts): string {
  const share = counts.sent === 0 ? 0 : (100 * counts.ok) / counts.sent;
  const statuses = Object.entries(counts.statuses)
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ');
  return `${counts.sent} sent, ${counts.ok} answered 200 (${share.toFixed(2)} %), ${counts.failed} failed${
    statuses ? ` (${statuses})` : ''
  }`;
}
