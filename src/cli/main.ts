import { ViaductError } from '../errors.js';
import { helpText, parse, UsageError, type Command } from './command.js';
import { checkConfig } from './commands/check-config.js';
import { create } from './commands/create.js';
import { deploy, undeploy } from './commands/deploy.js';
import { enmasse } from './commands/enmasse.js';
import { info } from './commands/info.js';
import { invoke } from './commands/invoke.js';
import { outgoing } from './commands/outgoing.js';
import { quickstart } from './commands/quickstart.js';
import { start } from './commands/start.js';
import { stop } from './commands/stop.js';

const commands: readonly Command[] = [quickstart, create, start, stop, info, deploy, undeploy, invoke, checkConfig, enmasse, outgoing];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return ['Usage: viaduct COMMAND [ARGS] (viaduct COMMAND --help for more)', '', 'Commands:', ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), ''].join('\n');
}

/** Runs the CLI; resolves to the exit code (or -1: a foreground server that exits by itself). */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`viaduct: unknown command ${name}; see viaduct --help\n`);
    return 2;
  }
  try {
    const args = parse(command, rest);
    if (args.values.help === true) {
      process.stdout.write(helpText(command));
      return 0;
    }
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`viaduct ${command.name}: ${error.message}\n`);
      return 2;
    }
    if (error instanceof ViaductError) {
      process.stderr.write(`error ${error.code}: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
