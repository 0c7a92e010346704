import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ViaductError } from '../../errors.js';
import type { DeployResult } from '../../service/deployer.js';
import { AdminClient } from '../admin-client.js';
import { helpOption, requireString, type Command } from '../command.js';

export const deploy: Command = {
  name: 'deploy',
  usage: 'deploy FILE --env DIR',
  options: { ...helpOption, env: { type: 'string' } },
  positionals: [1, 1],
  async run(args) {
    const file = args.positionals[0]!;
    const env = requireString(args, 'env');
    let source: string;
    try {
      source = await readFile(file, 'utf8');
    } catch {
      throw new ViaductError('VIA_ERR_VALIDATION', `Cannot read ${file}`);
    }
    const client = await AdminClient.forEnvironment(env);
    const result = await client.invoke<DeployResult>('viaduct.service.deploy', { file: path.basename(file), source });
    process.stdout.write(`Deployed ${result.services.join(', ')} from ${result.file} in ${result.ms.toFixed(1)} ms\n`);
    return 0;
  },
};

export const undeploy: Command = {
  name: 'undeploy',
  usage: 'undeploy SERVICE --env DIR',
  options: { ...helpOption, env: { type: 'string' } },
  positionals: [1, 1],
  async run(args) {
    const client = await AdminClient.forEnvironment(requireString(args, 'env'));
    const result = await client.invoke<{ name: string; file: string }>('viaduct.service.undeploy', {
      name: args.positionals[0],
    });
    process.stdout.write(`Undeployed ${result.name} (from ${result.file})\n`);
    return 0;
  },
};
