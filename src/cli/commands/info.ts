import type { ServerInfo } from '../../feature/server-info.js';
import { redactUrl } from '../../odb/odb-url.js';
import { readEnvironment } from '../../config/environment.js';
import { environmentLoadBalancer } from '../../lb/environment-load-balancer.js';
import { AdminClient } from '../admin-client.js';
import { helpOption, type Command } from '../command.js';
import { readRunFile, runningPid } from '../process-state.js';

export const info: Command = {
  name: 'info',
  usage: 'info DIR [--json]',
  options: { ...helpOption, json: { type: 'boolean' } },
  positionals: [1, 1],
  async run(args) {
    const dir = args.positionals[0]!;
    const { paths, config } = await readEnvironment(dir);
    const servers = [];
    for (const server of config.servers) {
      const pid = await runningPid(paths, server.name);
      const run = pid === undefined ? undefined : await readRunFile(paths, server.name);
      servers.push({
        name: server.name,
        host: server.host,
        port: server.port,
        running: pid !== undefined,
        primaryPid: pid ?? null,
        workers: run?.workers ?? [],
        spareWorkerPid: run?.spare ?? null,
        singleton: run?.singleton ?? null,
        startedAt: run?.startedAt ?? null,
      });
    }
    let services: Array<{ name: string; file: string }> = [];
    let live: ServerInfo | undefined;
    if (servers.some((s) => s.running)) {
      const client = await AdminClient.forEnvironment(dir);
      live = await client.invoke<ServerInfo>('viaduct.server.get-info').catch(() => undefined);
      services = await client.invoke<typeof services>('viaduct.service.get-list').catch(() => []);
    }
    const result = {
      environment: paths.dir,
      cluster: config.cluster,
      odb: redactUrl(config.odb),
      broker: config.broker,
      servers: servers.map((s) =>
        live !== undefined && live.server === s.name
          ? { ...s, uptimeSeconds: live.uptimeSeconds, workers: live.workers, odbVersion: live.odbVersion }
          : s,
      ),
      services: services.map((s) => ({ name: s.name, file: s.file })),
    };
    const balancer =
      config.lb === undefined
        ? undefined
        : await environmentLoadBalancer(paths)
            .servers()
            .catch(() => null);
    Object.assign(result, {
      loadBalancer:
        config.lb === undefined
          ? null
          : { url: `http://${config.lb.host}:${config.lb.port}`, running: balancer !== null, servers: balancer ?? [] },
    });
    if (args.values.json === true) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    const lines = [
      `Environment ${result.environment} (cluster ${result.cluster})`,
      `  ODB:    ${result.odb}`,
      `  broker: ${result.broker}`,
    ];
    for (const s of result.servers) {
      const singleton =
        s.singleton?.holder === true ? `, the singleton (lease generation ${s.singleton.generation})` : '';
      const state = s.running ? `running, primary pid ${s.primaryPid}${singleton}` : 'stopped';
      lines.push(
        `  server ${s.name}: ${state}, http://${s.host}:${s.port}${'uptimeSeconds' in s ? `, up ${s.uptimeSeconds} s` : ''}`,
      );
      const current = 'odbVersion' in s ? s.odbVersion : undefined;
      for (const w of s.workers) lines.push(`    worker ${w.id}: pid ${w.pid}${versionText(w.version, current)}`);
      if (s.spareWorkerPid !== null)
        lines.push(`    spare worker: pid ${s.spareWorkerPid} (loaded, replaces a worker that dies)`);
    }
    if (config.lb !== undefined) {
      lines.push(
        `  load balancer http://${config.lb.host}:${config.lb.port}: ${balancer === null ? 'stopped' : 'running'}`,
      );
      for (const s of balancer ?? [])
        lines.push(`    ${s.name}: ${s.state} (${s.address}:${s.port}, check ${s.checkStatus})`);
    }
    lines.push(`  services deployed: ${result.services.length}`);
    for (const s of result.services) lines.push(`    ${s.name} (${s.file})`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

/** ", configuration version 12", and whether the worker is behind the ODB (catching up). */
function versionText(version: number | null | undefined, odbVersion: number | undefined): string {
  if (version === null || version === undefined) return '';
  const behind = odbVersion !== undefined && version < odbVersion ? ` (the ODB has ${odbVersion}: catching up)` : '';
  return `, configuration version ${version}${behind}`;
}
