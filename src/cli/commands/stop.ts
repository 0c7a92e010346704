import { readEnvironment } from '../../config/environment.js';
import { environmentLoadBalancer } from '../../lb/environment-load-balancer.js';
import { helpOption, type Command } from '../command.js';
import { isAlive, runningPid, sleep } from '../process-state.js';

export const stop: Command = {
  name: 'stop',
  usage: 'stop DIR',
  options: { ...helpOption },
  positionals: [1, 1],
  async run(args) {
    const { paths, config } = await readEnvironment(args.positionals[0]!);
    const timeout = config.limits.drain_timeout_ms + 10_000;
    if (config.lb !== undefined) {
      // The load balancer goes first: it lets its requests in flight finish, then takes no more.
      const outcome = await environmentLoadBalancer(paths).stop();
      process.stdout.write(`Load balancer ${outcome === 'not-running' ? 'was not running' : 'stopped'}\n`);
    }
    for (const server of config.servers) {
      const pid = await runningPid(paths, server.name);
      if (pid === undefined) {
        process.stdout.write(`Server ${server.name} is not running\n`);
        continue;
      }
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + timeout;
      while (isAlive(pid) && Date.now() < deadline) await sleep(50);
      if (isAlive(pid)) {
        process.kill(-pid, 'SIGKILL');
        process.stdout.write(`Server ${server.name} (pid ${pid}) did not stop in time and was killed\n`);
      } else {
        process.stdout.write(`Server ${server.name} stopped\n`);
      }
    }
    return 0;
  },
};
