/**
 * The outgoing REST path: a REST channel invokes a service that POSTs the payload through a REST
 * outgoing connection to a local echo server, against a raw node:http server doing the same call
 * with undici directly (a Pool of the same size). Both are loaded by autocannon the same way, in
 * the same run, against the same echo server, so the only difference is Viaduct's pipeline and
 * outgoing layer.
 */
import { fileURLToPath } from 'node:url';
import { spawnNode, waitForOutput } from './lib/child.js';
import { BenchEnv, freePort } from './lib/env.js';
import {
  compareUnderLoad,
  expectJsonAnswer,
  loadSettings,
  ratios,
  sideFigures,
  roundNotes,
  throughputCheck,
  type Contender,
} from './lib/compare-load.js';
import { isMain, runStandalone, type BenchResult } from './lib/report.js';
import { envInt, fmt } from './lib/stats.js';

const ECHO_SERVER = fileURLToPath(new URL('./lib/raw-server.js', import.meta.url));
const BASELINE_SERVER = fileURLToPath(new URL('./lib/undici-forward-server.js', import.meta.url));
const BODY = JSON.stringify({ name: 'bench' });
const EXPECTED = JSON.stringify({ hello: 'bench' });

/** The service: the channel's payload out through the connection, the remote end's answer back. */
const CALLER_SOURCE = `import { Service } from 'viaduct';

export default class Forward extends Service {
  static serviceName = 'bench.forward';

  async handle() {
    const answer = await this.out.rest('echo').post('/', this.request.payload);
    this.response.payload = answer.data;
  }
}
`;

export async function run(): Promise<BenchResult> {
  const settings = { ...loadSettings(BODY), poolSize: envInt('BENCH_REST_POOL_SIZE', 10) };
  const log = (line: string): void => void process.stdout.write(`[outgoing-rest] ${line}\n`);

  const env = await BenchEnv.create({ workers: 1 });
  const echoPort = await freePort();
  const echo = spawnNode([ECHO_SERVER], { PORT: String(echoPort) });
  const baselinePort = await freePort();
  const baseline = spawnNode([BASELINE_SERVER], {
    PORT: String(baselinePort),
    TARGET: `http://127.0.0.1:${echoPort}`,
    POOL_SIZE: String(settings.poolSize),
  });
  try {
    await waitForOutput(echo, 'listening');
    await waitForOutput(baseline, 'listening');
    await env.start();
    await env.admin('viaduct.outgoing.rest.create', {
      name: 'echo',
      address: `http://127.0.0.1:${echoPort}`,
      pool_size: settings.poolSize,
    });
    await env.deployWithCli('forward.ts', CALLER_SOURCE);
    await env.createRestChannel('forward', '/api/forward', 'bench.forward');

    // CPU time of the process doing the forwarding (the echo server's is the same for both).
    const undici: Contender = { name: 'undici', url: `http://127.0.0.1:${baselinePort}/`, pids: [baseline.pid] };
    const viaduct: Contender = { name: 'viaduct', url: `${env.url}/api/forward`, pids: await env.serverPids() };
    for (const contender of [undici, viaduct]) await expectJsonAnswer(contender, BODY, EXPECTED);

    const { baseline: u, candidate: v } = await compareUnderLoad(undici, viaduct, settings, log);
    const { throughputRatio, p99Ratio, serverCpuRatio: cpuRatio } = ratios(u, v);
    return {
      name: 'outgoing-rest',
      title: 'Outgoing REST: channel + service + REST connection (1 worker) vs node:http + undici',
      settings,
      figures: {
        viaduct: sideFigures(v),
        undici: sideFigures(u),
        throughputRatio,
        p99Ratio,
        serverCpuRatio: cpuRatio,
      },
      checks: [throughputCheck({ baseline: 'undici', candidate: 'viaduct' }, u, v, 0.9)],
      notes: [
        ...roundNotes(['undici', u], ['viaduct', v]),
        `p99 latency: viaduct ${fmt(v.p99, 2)} ms, undici ${fmt(u.p99, 2)} ms (ratio ${fmt(p99Ratio, 2)})`,
        `CPU per request of the forwarding process(es): viaduct ${fmt(v.cpuUs, 1)} µs, undici ${fmt(u.cpuUs, 1)} µs, ` +
          `ratio ${fmt(cpuRatio, 2)} (for information; it does not depend on how busy the machine is)`,
        `autocannon in this process, ${settings.connections} connections, pipelining ${settings.pipelining}, POST ` +
          `${BODY}; pool of ${settings.poolSize} connections to the echo server on both sides; best of ${settings.rounds} ` +
          `rounds of ${settings.durationS} s each, order alternating`,
        'the echo server (bench/lib/raw-server.ts) and the undici baseline (bench/lib/undici-forward-server.ts) are ' +
          'separate processes; the viaduct server is a primary plus one node:cluster worker, started by `viaduct start`, ' +
          'logging at its default level',
      ],
    };
  } finally {
    await baseline.stop();
    await echo.stop();
    await env.destroy();
  }
}

if (isMain(import.meta.url)) await runStandalone(run);
