import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { substituteEnv } from '../../config/enmasse.js';
import { ViaductError } from '../../errors.js';
import { AdminClient } from '../admin-client.js';
import { helpOption, requireString, UsageError, type Command } from '../command.js';

export const enmasse: Command = {
  name: 'enmasse',
  usage: 'enmasse import FILE --env DIR | enmasse export --env DIR [--file OUT]',
  details:
    'Secrets are written as ${ENV_VAR} placeholders and filled in from the environment on import. See docs/enmasse.md.',
  options: { ...helpOption, env: { type: 'string' }, file: { type: 'string' } },
  positionals: [1, 2],
  async run(args) {
    const [action, file] = args.positionals;
    const env = requireString(args, 'env');
    if (action === 'import') {
      if (file === undefined) throw new UsageError('missing argument: usage: viaduct enmasse import FILE --env DIR');
      let document: unknown;
      try {
        document = parse(await readFile(file, 'utf8'));
      } catch (error) {
        const reason =
          (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message.split('\n')[0];
        throw new ViaductError('VIA_ERR_ENMASSE', `${file}: ${reason}`);
      }
      const client = await AdminClient.forEnvironment(env);
      const summary = await client.invoke<{ created: string[]; updated: string[]; unchanged: string[] }>(
        'viaduct.enmasse.import',
        { document: substituteEnv(document, process.env) },
      );
      for (const what of summary.created) process.stdout.write(`created   ${what}\n`);
      for (const what of summary.updated) process.stdout.write(`updated   ${what}\n`);
      process.stdout.write(
        `${summary.created.length} created, ${summary.updated.length} updated, ${summary.unchanged.length} unchanged\n`,
      );
      return 0;
    }
    if (action === 'export') {
      if (file !== undefined)
        throw new UsageError(`unexpected argument ${file}: usage: viaduct enmasse export --env DIR [--file OUT]`);
      const client = await AdminClient.forEnvironment(env);
      const { document } = await client.invoke<{ document: unknown }>('viaduct.enmasse.export');
      const text = `# Exported by viaduct enmasse export. Secrets are \${ENV_VAR} placeholders.\n${stringify(document ?? {})}`;
      if (typeof args.values.file === 'string') await writeFile(args.values.file, text);
      else process.stdout.write(text);
      return 0;
    }
    throw new UsageError(`unknown action ${action}: use import or export`);
  },
};
